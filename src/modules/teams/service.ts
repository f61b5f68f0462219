import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { DEFAULT_ORG_ID } from '../../infra/db/migrations/0001_foundation.js';
import type { OrganizationsTable, TeamsTable } from '../../infra/db/schema.js';
import type { TeamsRepository } from './repository.js';

export interface TeamResponse {
  id: string;
  orgId: string;
  name: string;
  keys: number;
  createdAt: number;
}

/** Teams inside the organization: keys can bill to a team, and a team can carry budgets and rate limits. */
export class TeamsService {
  constructor(
    private readonly repo: TeamsRepository,
    private readonly clock: Clock,
    private readonly newId: IdGenerator,
  ) {}

  async list(): Promise<TeamResponse[]> {
    const rows = await this.repo.listWithKeyCounts();
    return rows.map((r) => ({ id: r.id, orgId: r.org_id, name: r.name, keys: r.keys, createdAt: r.created_at }));
  }

  find(id: string): Promise<TeamsTable | undefined> {
    return this.repo.findById(id);
  }

  findOrg(id: string): Promise<OrganizationsTable | undefined> {
    return this.repo.findOrg(id);
  }

  async create(name: string): Promise<TeamResponse> {
    const trimmed = name.trim();
    if (await this.repo.nameTaken(trimmed))
      throw new ApiError('conflict', `A team named ${trimmed} already exists`, { param: 'name' });
    const now = this.clock.now();
    const row: TeamsTable = {
      id: this.newId('team'),
      org_id: DEFAULT_ORG_ID,
      name: trimmed,
      created_at: now,
      updated_at: now,
    };
    await this.repo.insert(row);
    return { id: row.id, orgId: row.org_id, name: row.name, keys: 0, createdAt: now };
  }

  readonly #deleted: Array<(teamId: string) => void> = [];

  /** Called after a team is deleted (drop cached keys and limits). */
  onDeleted(listener: (teamId: string) => void): void {
    this.#deleted.push(listener);
  }

  /** Delete a team; its keys stay, without a team. */
  async delete(id: string): Promise<void> {
    if (!(await this.find(id))) throw notFound('Team');
    await this.repo.delete(id);
    for (const listener of this.#deleted) listener(id);
  }
}
