import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import type { OrganizationsTable, TeamsTable } from '../../infra/db/schema.js';
import type { TeamRole } from '../access/permissions.js';
import { can, type Principal } from '../auth/principal.js';
import { multiplierFromPpm, multiplierToPpm, parseModelList } from '../organizations/service.js';
import type { TeamsRepository, TeamWithCounts } from './repository.js';

export interface TeamResponse {
  id: string;
  orgId: string;
  name: string;
  description: string | null;
  allowedModels: string[] | null;
  priceMultiplier: number | null;
  /** The pricing group the team is assigned to (null: its organization's pricing). */
  pricingGroupId: string | null;
  channelGroups: string[] | null;
  keys: number;
  members: number;
  createdAt: number;
}

export interface TeamMemberResponse {
  userId: string;
  email: string;
  name: string;
  role: TeamRole;
  joinedAt: number;
}

export interface TeamInput {
  name?: string | undefined;
  description?: string | null | undefined;
  allowedModels?: string[] | null | undefined;
  priceMultiplier?: number | null | undefined;
  channelGroups?: string[] | null | undefined;
}

function toResponse(row: TeamWithCounts): TeamResponse {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    description: row.description,
    allowedModels: parseModelList(row.allowed_models),
    priceMultiplier: multiplierFromPpm(row.price_multiplier_ppm),
    pricingGroupId: row.pricing_group_id ?? null,
    channelGroups: parseModelList(row.channel_groups),
    keys: row.keys,
    members: row.members,
    createdAt: Number(row.created_at),
  };
}

/**
 * Teams inside an organization: members with a team role, keys (personal ones billed to the team, and
 * team-owned service keys), model access, a price multiplier and budgets. Every method takes the caller's
 * organization; a team of another organization is "not found".
 */
export class TeamsService {
  readonly #changed: Array<(teamId: string, deleted: boolean) => void> = [];

  constructor(
    private readonly repo: TeamsRepository,
    private readonly clock: Clock,
    private readonly newId: IdGenerator,
  ) {}

  /** Called after a team's model access changes or it is deleted (drop cached keys and limits). */
  onChanged(listener: (teamId: string, deleted: boolean) => void): void {
    this.#changed.push(listener);
  }

  /** Called after a team is deleted. */
  onDeleted(listener: (teamId: string) => void): void {
    this.#changed.push((teamId, deleted) => {
      if (deleted) listener(teamId);
    });
  }

  /** The teams the caller may see: every team with teams.read, else the caller's own. */
  async list(principal: Principal): Promise<TeamResponse[]> {
    const mine = can(principal, 'teams.read')
      ? undefined
      : [...(principal.kind === 'user' ? principal.teams.keys() : [])];
    return (await this.repo.listWithCounts(principal.orgId, mine)).map(toResponse);
  }

  async get(principal: Principal, id: string): Promise<TeamResponse> {
    await this.visible(principal, id);
    const [row] = await this.repo.listWithCounts(principal.orgId, [id]);
    if (!row) throw notFound('Team');
    return toResponse(row);
  }

  /** A team by id, in any organization (limits, wiring). */
  find(id: string): Promise<TeamsTable | undefined> {
    return this.repo.findById(id);
  }

  findOrg(id: string): Promise<OrganizationsTable | undefined> {
    return this.repo.findOrg(id);
  }

  /** A team of this organization, or "not found". */
  async inOrg(orgId: string, id: string): Promise<TeamsTable> {
    const team = await this.repo.findById(id);
    if (!team || team.org_id !== orgId) throw notFound('Team');
    return team;
  }

  async create(orgId: string, input: TeamInput & { name: string }): Promise<TeamResponse> {
    const name = input.name.trim();
    if (await this.repo.nameTaken(orgId, name))
      throw new ApiError('conflict', `A team named ${name} already exists`, { param: 'name' });
    const now = this.clock.now();
    const row: TeamsTable = {
      id: this.newId('team'),
      org_id: orgId,
      name,
      description: input.description ?? null,
      allowed_models: input.allowedModels ? JSON.stringify([...new Set(input.allowedModels)]) : null,
      price_multiplier_ppm: multiplierToPpm(input.priceMultiplier ?? null),
      channel_groups: input.channelGroups ? JSON.stringify([...new Set(input.channelGroups)]) : null,
      created_at: now,
      updated_at: now,
    };
    await this.repo.insert(row);
    return toResponse({ ...row, keys: 0, members: 0 });
  }

  async update(principal: Principal, id: string, input: TeamInput): Promise<TeamResponse> {
    const team = await this.inOrg(principal.orgId, id);
    const patch: Partial<TeamsTable> = { updated_at: this.clock.now() };
    if (input.name !== undefined) {
      const name = input.name.trim();
      if (await this.repo.nameTaken(team.org_id, name, id))
        throw new ApiError('conflict', `A team named ${name} already exists`, { param: 'name' });
      patch.name = name;
    }
    if (input.description !== undefined) patch.description = input.description;
    if (input.allowedModels !== undefined)
      patch.allowed_models = input.allowedModels === null ? null : JSON.stringify([...new Set(input.allowedModels)]);
    if (input.priceMultiplier !== undefined) patch.price_multiplier_ppm = multiplierToPpm(input.priceMultiplier);
    if (input.channelGroups !== undefined)
      patch.channel_groups = input.channelGroups === null ? null : JSON.stringify([...new Set(input.channelGroups)]);
    await this.repo.update(id, patch);
    if (input.allowedModels !== undefined || input.priceMultiplier !== undefined || input.channelGroups !== undefined)
      this.emit(id, false);
    return this.get(principal, id);
  }

  /** Delete a team; its keys stay, without a team (service keys become their creator's). */
  async delete(orgId: string, id: string): Promise<void> {
    await this.inOrg(orgId, id);
    await this.repo.delete(id);
    this.emit(id, true);
  }

  // ---- members

  async members(principal: Principal, id: string): Promise<TeamMemberResponse[]> {
    await this.visible(principal, id);
    return (await this.repo.members(id)).map((r) => ({
      userId: r.user_id,
      email: r.email,
      name: r.name,
      role: r.role === 'admin' ? 'admin' : 'member',
      joinedAt: Number(r.joined_at),
    }));
  }

  /** Add an organization member to a team (invitations and SSO use it too). Idempotent. */
  async addMember(teamId: string, userId: string, role: TeamRole = 'member'): Promise<void> {
    const team = await this.repo.findById(teamId);
    if (!team) throw notFound('Team');
    if (!(await this.repo.isOrgMember(team.org_id, userId)))
      throw new ApiError('validation_failed', 'Only members of the organization can join its teams', {
        param: 'userId',
      });
    if (await this.repo.teamMembership(teamId, userId)) return;
    try {
      await this.repo.insertMember({
        id: this.newId('mem'),
        user_id: userId,
        org_id: team.org_id,
        team_id: teamId,
        role,
        created_at: this.clock.now(),
      });
    } catch (error) {
      if (!(await this.repo.teamMembership(teamId, userId))) throw error;
    }
  }

  async addMemberAs(principal: Principal, teamId: string, userId: string, role: TeamRole): Promise<TeamMemberResponse> {
    await this.mayManage(principal, teamId);
    if (await this.repo.teamMembership(teamId, userId))
      throw new ApiError('conflict', 'Already a member of this team', { param: 'userId' });
    await this.addMember(teamId, userId, role);
    return this.member(teamId, userId);
  }

  async setMemberRole(
    principal: Principal,
    teamId: string,
    userId: string,
    role: TeamRole,
  ): Promise<TeamMemberResponse> {
    await this.mayManage(principal, teamId);
    if (!(await this.repo.teamMembership(teamId, userId))) throw notFound('Team member');
    await this.repo.setMemberRole(teamId, userId, role);
    return this.member(teamId, userId);
  }

  async removeMember(principal: Principal, teamId: string, userId: string): Promise<void> {
    await this.mayManage(principal, teamId);
    if (!(await this.repo.teamMembership(teamId, userId))) throw notFound('Team member');
    await this.repo.deleteMember(teamId, userId);
  }

  private async member(teamId: string, userId: string): Promise<TeamMemberResponse> {
    const row = (await this.repo.members(teamId)).find((r) => r.user_id === userId);
    if (!row) throw notFound('Team member');
    return {
      userId: row.user_id,
      email: row.email,
      name: row.name,
      role: row.role === 'admin' ? 'admin' : 'member',
      joinedAt: Number(row.joined_at),
    };
  }

  /** A team the caller may see: of their organization, and theirs unless they hold teams.read. */
  private async visible(principal: Principal, id: string): Promise<TeamsTable> {
    const team = await this.inOrg(principal.orgId, id);
    if (!can(principal, 'teams.read') && !(principal.kind === 'user' && principal.teams.has(id)))
      throw notFound('Team');
    return team;
  }

  /** Managing a team's members needs teams.manage, or being an admin of that team. */
  private async mayManage(principal: Principal, id: string): Promise<void> {
    await this.visible(principal, id);
    if (can(principal, 'teams.manage')) return;
    if (principal.kind === 'user' && principal.teams.get(id) === 'admin') return;
    throw new ApiError('forbidden', 'This needs the permission teams.manage, or being an admin of this team');
  }

  private emit(teamId: string, deleted: boolean): void {
    for (const listener of this.#changed) listener(teamId, deleted);
  }
}
