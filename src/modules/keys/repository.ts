import { type Kysely, sql } from 'kysely';
import { containsAny } from '../../infra/db/contains.js';
import type { ApiKeysTable, Database, KeyStatus, UserStatus } from '../../infra/db/schema.js';

export interface KeyListQuery {
  /** The organization whose keys are listed (always given: a list never crosses organizations). */
  orgId: string;
  /** Only these keys of the organization: the caller's own (not team-owned), and those of these teams. */
  within?: { userId: string | null; teamIds: string[] } | undefined;
  userId?: string | undefined;
  teamId?: string | undefined;
  status?: KeyStatus | undefined;
  /** Part of the key's name, hint or id, or of its owner's email or name (case-insensitive). */
  search?: string | undefined;
  limit: number;
  offset: number;
}

export type KeyWithOwner = ApiKeysTable & {
  owner_status: UserStatus;
  org_status: 'active' | 'disabled';
  /** The organization's and the team's model access (JSON lists; null = all). */
  org_models: string | null;
  team_models: string | null;
  /** The organization's and the team's channel groups (JSON lists; null = every channel). */
  org_channel_groups: string | null;
  team_channel_groups: string | null;
};

/** Data access for api_keys. */
export class KeysRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: ApiKeysTable): Promise<void> {
    await this.db.insertInto('api_keys').values(row).execute();
  }

  findById(id: string): Promise<ApiKeysTable | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The key with its owner's status and its organization's and team's model access, for verification. */
  findByHash(hash: string): Promise<KeyWithOwner | undefined> {
    return this.db
      .selectFrom('api_keys')
      .innerJoin('users', 'users.id', 'api_keys.user_id')
      .innerJoin('organizations', 'organizations.id', 'api_keys.org_id')
      .leftJoin('teams', 'teams.id', 'api_keys.team_id')
      .selectAll('api_keys')
      .select([
        'users.status as owner_status',
        'organizations.status as org_status',
        'organizations.allowed_models as org_models',
        'teams.allowed_models as team_models',
        'organizations.channel_groups as org_channel_groups',
        'teams.channel_groups as team_channel_groups',
      ])
      .where('api_keys.key_hash', '=', hash)
      .executeTakeFirst();
  }

  async list(query: KeyListQuery): Promise<{ rows: ApiKeysTable[]; total: number }> {
    let q = this.db.selectFrom('api_keys').where('api_keys.org_id', '=', query.orgId);
    const within = query.within;
    if (within) {
      q = q.where((eb) => {
        const ors = [];
        if (within.userId !== null)
          ors.push(eb.and([eb('api_keys.user_id', '=', within.userId), eb('api_keys.team_owned', '=', 0)]));
        if (within.teamIds.length > 0) ors.push(eb('api_keys.team_id', 'in', within.teamIds));
        return ors.length > 0 ? eb.or(ors) : eb.lit(false);
      });
    }
    if (query.userId) q = q.where('user_id', '=', query.userId);
    if (query.teamId) q = q.where('team_id', '=', query.teamId);
    if (query.status) q = q.where('status', '=', query.status);
    const search = query.search?.trim();
    if (search) {
      const owners = this.db
        .selectFrom('users')
        .select('users.id')
        .where(containsAny(search, ['users.email', 'users.name']));
      const own = containsAny(search, ['api_keys.name', 'api_keys.hint', 'api_keys.id']);
      q = q.where(sql<boolean>`(${own} or ${sql.ref('api_keys.user_id')} in (${owners}))`);
    }
    const [rows, count] = await Promise.all([
      q
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(query.limit)
        .offset(query.offset)
        .execute(),
      q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  async update(id: string, patch: Partial<Omit<ApiKeysTable, 'id' | 'user_id' | 'created_at'>>): Promise<void> {
    await this.db.updateTable('api_keys').set(patch).where('id', '=', id).execute();
  }

  /** Whether a team exists in this organization. */
  async teamInOrg(orgId: string, id: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('teams')
      .select('id')
      .where('id', '=', id)
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Whether a user is a member of this organization. */
  async isOrgMember(orgId: string, userId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('memberships')
      .select('id')
      .where('org_id', '=', orgId)
      .where('user_id', '=', userId)
      .where('team_id', 'is', null)
      .executeTakeFirst();
    return row !== undefined;
  }

  async listIdsByUser(userId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('api_keys').select('id').where('user_id', '=', userId).execute();
    return rows.map((r) => r.id);
  }
}
