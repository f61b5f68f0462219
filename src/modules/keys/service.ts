import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { parseCidr } from '../../core/ip.js';
import { randomSecret, sha256Hex } from '../../core/secrets.js';
import type { ApiKeysTable, KeyStatus } from '../../infra/db/schema.js';
import { keyManageReach, keyReadReach, type Reach, type ReachScope, reaches } from '../access/reach.js';
import type { Actor, AuditService } from '../audit/service.js';
import { actorOf, type Principal } from '../auth/principal.js';
import { columnsFromPolicy, type LimitPolicy, mergePolicy, NO_LIMITS, policyFromColumns } from '../limits/policy.js';
import type { UsersService } from '../users/service.js';
import type { KeyListQuery, KeysRepository } from './repository.js';
import type { KeyVerifier } from './verifier.js';

export const KEY_PREFIX = 'sk-';

/** A key as the API shows it: the hint, never the hash or the secret. */
export interface KeyResponse {
  id: string;
  userId: string;
  orgId: string;
  teamId: string | null;
  /** A service key: owned by its team, it keeps working when its creator (userId) leaves or is disabled. */
  teamOwned: boolean;
  name: string;
  hint: string;
  status: KeyStatus;
  expiresAt: number | null;
  createdAt: number;
  updatedAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
  allowedModels: string[] | null;
  allowedIps: string[] | null;
  responseCache: boolean;
  limits: LimitPolicy;
}

function jsonList(value: string | null): string[] | null {
  return value ? (JSON.parse(value) as string[]) : null;
}

export function toKeyResponse(row: ApiKeysTable): KeyResponse {
  return {
    id: row.id,
    userId: row.user_id,
    orgId: row.org_id,
    teamId: row.team_id,
    teamOwned: Number(row.team_owned) === 1,
    name: row.name,
    hint: row.hint,
    status: row.status,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    allowedModels: jsonList(row.allowed_models),
    allowedIps: jsonList(row.allowed_ips),
    responseCache: Number(row.response_cache) === 1,
    limits: policyFromColumns(row),
  };
}

export interface CreatedKey {
  key: KeyResponse;
  /** The secret, shown once. */
  secret: string;
}

/** Restrictions and limits a key carries (omitted = unchanged, null = none). */
export interface KeyRestrictions extends Partial<LimitPolicy> {
  /** Model names or `prefix*` wildcards; null = every model. */
  allowedModels?: string[] | null | undefined;
  /** Client IPs or CIDRs (v4/v6); null = anywhere. */
  allowedIps?: string[] | null | undefined;
  /** Cache the answers to this key's requests (docs/response-cache.md). */
  responseCache?: boolean | undefined;
}

export interface CreateKeyInput extends KeyRestrictions {
  name: string;
  expiresAt?: number | null | undefined;
  /** Owner; defaults to the caller. Naming another member needs keys.all. */
  userId?: string | undefined;
  /** Team the key bills to (keys.all, or a team whose keys the caller manages). */
  teamId?: string | null | undefined;
  /** A service key owned by `teamId`: it does not depend on its creator's membership or status. */
  teamOwned?: boolean | undefined;
}

export interface UpdateKeyInput extends KeyRestrictions {
  name?: string | undefined;
  enabled?: boolean | undefined;
  expiresAt?: number | null | undefined;
  teamId?: string | null | undefined;
}

function validateRestrictions(input: KeyRestrictions): void {
  for (const cidr of input.allowedIps ?? []) {
    if (!isCidrOrIp(cidr))
      throw new ApiError('validation_failed', `allowedIps: "${cidr}" is not an IP address or CIDR range`, {
        param: 'allowedIps',
      });
  }
}

function isCidrOrIp(text: string): boolean {
  try {
    parseCidr(text);
    return true;
  } catch {
    return false;
  }
}

function restrictionColumns(input: KeyRestrictions, base: LimitPolicy): Partial<ApiKeysTable> {
  const out: Partial<ApiKeysTable> = { ...columnsFromPolicy(mergePolicy(base, input)) };
  if (input.allowedModels !== undefined)
    out.allowed_models = input.allowedModels === null ? null : JSON.stringify(input.allowedModels);
  if (input.allowedIps !== undefined)
    out.allowed_ips = input.allowedIps === null ? null : JSON.stringify(input.allowedIps);
  if (input.responseCache !== undefined) out.response_cache = input.responseCache ? 1 : 0;
  return out;
}

interface RequestContext {
  principal: Principal;
  ip: string | null;
}

/** Creates, lists, changes, rotates and revokes virtual API keys. Secrets are shown once and stored hashed. */
export class KeysService {
  constructor(
    private readonly repo: KeysRepository,
    private readonly users: UsersService,
    private readonly verifier: KeyVerifier,
    private readonly audit: AuditService,
    private readonly clock: Clock,
    private readonly newId: IdGenerator,
    /** Limits every new key starts with (instance setting). */
    private readonly defaults: () => Partial<LimitPolicy> = () => ({}),
  ) {
    users.onChange((userId) => verifier.invalidateUser(userId));
  }

  async create(input: CreateKeyInput, ctx: RequestContext): Promise<CreatedKey> {
    const { principal } = ctx;
    const orgId = principal.orgId;
    const manage = keyManageReach(principal);
    const teamId = input.teamId ?? null;
    if (input.teamOwned && !teamId)
      throw new ApiError('validation_failed', 'A team-owned key needs a teamId', { param: 'teamId' });
    if (teamId !== null) await this.assertTeamReach(orgId, teamId, manage);
    const ownerId = input.userId ?? selfId(principal);
    if (!ownerId)
      throw new ApiError('validation_failed', 'userId is required when calling with the master key', {
        param: 'userId',
      });
    if (ownerId !== selfId(principal)) {
      if (!manage.all)
        throw new ApiError('forbidden', 'Creating a key for another member needs the permission keys.all');
    } else if (!input.teamOwned && !manage.own) {
      throw new ApiError('forbidden', 'This needs the permission keys.own (or create a team-owned key)');
    }
    const owner = await this.users.get(ownerId).catch(() => undefined);
    // Another organization's user is as unknown as a user that does not exist.
    if (!owner || !(await this.repo.isOrgMember(orgId, owner.id)))
      throw new ApiError('validation_failed', `User ${ownerId} is not a member of this organization`, {
        param: 'userId',
      });
    if (owner.status !== 'active')
      throw new ApiError('validation_failed', 'Cannot create a key for a disabled user', { param: 'userId' });
    const now = this.clock.now();
    this.checkExpiry(input.expiresAt, now);
    validateRestrictions(input);
    const secret = newSecret();
    const row: ApiKeysTable = {
      id: this.newId('key'),
      user_id: owner.id,
      // A key belongs to the organization it is created in.
      org_id: orgId,
      team_id: teamId,
      team_owned: input.teamOwned ? 1 : 0,
      name: input.name.trim(),
      key_hash: sha256Hex(secret),
      hint: hintOf(secret),
      status: 'active',
      expires_at: input.expiresAt ?? null,
      created_at: now,
      updated_at: now,
      last_used_at: null,
      revoked_at: null,
      allowed_models: null,
      allowed_ips: null,
      response_cache: null,
      budget_micros: null,
      budget_period: null,
      token_quota: null,
      token_quota_period: null,
      rpm: null,
      tpm: null,
      max_concurrency: null,
      metadata: null,
      // The instance's default key limits, then what the request asks for.
      ...restrictionColumns(input, mergePolicy(NO_LIMITS, this.defaults())),
    };
    await this.repo.insert(row);
    await this.record(ctx, row, 'key.create', {
      name: row.name,
      ownerId: owner.id,
      ...(teamId ? { teamId, teamOwned: row.team_owned === 1 } : {}),
    });
    return { key: toKeyResponse(row), secret };
  }

  /** Every key of the current organization (keys.read / keys.all). */
  list(
    principal: Principal,
    query: Omit<KeyListQuery, 'orgId' | 'within'>,
  ): Promise<{ rows: ApiKeysTable[]; total: number }> {
    return this.repo.list({ ...query, orgId: principal.orgId });
  }

  /**
   * The caller's keys in the current organization: its own, and those of the teams it reaches (keys.team or
   * team admin); `scope: 'all'` lists every key of the organization (keys.read / keys.all).
   */
  listMine(
    principal: Principal,
    query: Omit<KeyListQuery, 'orgId' | 'within' | 'userId'> & { scope?: ReachScope | undefined },
  ): Promise<{ rows: ApiKeysTable[]; total: number }> {
    const { scope, ...rest } = query;
    const reach = keyReadReach(principal);
    if (scope === 'all') {
      if (!reach.all) throw new ApiError('forbidden', 'Listing every key needs the permission keys.read or keys.all');
      return this.repo.list({ ...rest, orgId: principal.orgId });
    }
    if (principal.kind !== 'user')
      throw new ApiError('bad_request', 'The master key owns no keys; use GET /api/admin/keys');
    const teamIds = scope === 'own' ? [] : reach.teams;
    return this.repo.list({ ...rest, orgId: principal.orgId, within: { userId: principal.userId, teamIds } });
  }

  /** A key by id in any organization (the calling API key, wiring). */
  async getById(id: string): Promise<ApiKeysTable> {
    const row = await this.repo.findById(id);
    if (!row) throw notFound('API key');
    return row;
  }

  /**
   * A key the caller may see: of the current organization, and within its reach (own, its teams', or all).
   * Every other key is "not found", whether it exists or not.
   */
  async getVisible(id: string, principal: Principal): Promise<ApiKeysTable> {
    const row = await this.repo.findById(id);
    if (!row || row.org_id !== principal.orgId || !reaches(keyReadReach(principal), principal, reachRow(row)))
      throw notFound('API key');
    return row;
  }

  /** A key the caller may change: visible, and within its management reach (403 when only readable). */
  private async getManageable(id: string, principal: Principal): Promise<ApiKeysTable> {
    const row = await this.getVisible(id, principal);
    if (!reaches(keyManageReach(principal), principal, reachRow(row)))
      throw new ApiError('forbidden', 'Changing this key needs the permission keys.all');
    return row;
  }

  /** Refuse a team the caller cannot put keys in: another organization's is not found. */
  private async assertTeamReach(orgId: string, teamId: string, manage: Reach): Promise<void> {
    if (!(await this.repo.teamInOrg(orgId, teamId)))
      throw new ApiError('not_found', `Team ${teamId} not found`, { param: 'teamId' });
    if (!manage.all && !manage.teams.includes(teamId))
      throw new ApiError(
        'forbidden',
        'Putting a key in this team needs the permission keys.all, or keys.team as a member (or being its admin)',
        { param: 'teamId' },
      );
  }

  async update(id: string, input: UpdateKeyInput, ctx: RequestContext): Promise<ApiKeysTable> {
    const row = await this.getManageable(id, ctx.principal);
    if (row.status === 'revoked') throw new ApiError('conflict', 'This key is revoked and cannot be changed');
    const now = this.clock.now();
    const patch: Partial<ApiKeysTable> = { updated_at: now };
    if (input.name !== undefined) patch.name = input.name.trim();
    if (input.enabled !== undefined) patch.status = input.enabled ? 'active' : 'disabled';
    if (input.expiresAt !== undefined) {
      this.checkExpiry(input.expiresAt, now);
      patch.expires_at = input.expiresAt;
    }
    if (input.teamId !== undefined && input.teamId !== row.team_id) {
      const manage = keyManageReach(ctx.principal);
      if (input.teamId === null) {
        if (Number(row.team_owned) === 1)
          throw new ApiError('validation_failed', 'A team-owned key always belongs to a team', { param: 'teamId' });
        // Out of a team: the whole organization's keys, or one's own key.
        if (!manage.all && !(manage.own && row.user_id === selfId(ctx.principal)))
          throw new ApiError('forbidden', 'Taking this key out of its team needs the permission keys.all', {
            param: 'teamId',
          });
      } else {
        await this.assertTeamReach(ctx.principal.orgId, input.teamId, manage);
      }
      patch.team_id = input.teamId;
    }
    validateRestrictions(input);
    Object.assign(patch, restrictionColumns(input, policyFromColumns(row)));
    await this.repo.update(id, patch);
    this.verifier.invalidateKey(id);
    await this.record(ctx, row, 'key.update', {
      changes: Object.keys(input).filter((k) => input[k as keyof UpdateKeyInput] !== undefined),
    });
    return { ...row, ...patch };
  }

  async revoke(id: string, ctx: RequestContext): Promise<void> {
    const row = await this.getManageable(id, ctx.principal);
    if (row.status === 'revoked') return;
    const now = this.clock.now();
    await this.repo.update(id, { status: 'revoked', revoked_at: now, updated_at: now });
    this.verifier.invalidateKey(id);
    await this.record(ctx, row, 'key.revoke', { ownerId: row.user_id });
  }

  /** Replace the secret of a key (same id, settings and history); the old secret stops working at once. */
  async rotate(id: string, ctx: RequestContext): Promise<CreatedKey> {
    const row = await this.getManageable(id, ctx.principal);
    if (row.status === 'revoked') throw new ApiError('conflict', 'This key is revoked and cannot be rotated');
    const secret = newSecret();
    const patch = { key_hash: sha256Hex(secret), hint: hintOf(secret), updated_at: this.clock.now() };
    await this.repo.update(id, patch);
    this.verifier.invalidateKey(id);
    await this.record(ctx, row, 'key.rotate', { ownerId: row.user_id });
    return { key: toKeyResponse({ ...row, ...patch }), secret };
  }

  private checkExpiry(expiresAt: number | null | undefined, now: number): void {
    if (expiresAt !== undefined && expiresAt !== null && expiresAt <= now) {
      throw new ApiError('validation_failed', 'expiresAt must be in the future', { param: 'expiresAt' });
    }
  }

  private record(
    ctx: RequestContext,
    key: Pick<ApiKeysTable, 'id' | 'org_id'>,
    action: string,
    detail: Record<string, unknown>,
  ): Promise<void> {
    const actor: Actor = actorOf(ctx.principal);
    return this.audit.record({
      orgId: key.org_id,
      actor,
      action,
      targetType: 'api_key',
      targetId: key.id,
      ip: ctx.ip,
      detail,
    });
  }
}

function reachRow(row: ApiKeysTable) {
  return { userId: row.user_id, teamId: row.team_id, teamOwned: Number(row.team_owned) === 1 };
}

function selfId(principal: Principal): string | undefined {
  return principal.kind === 'user' ? principal.userId : undefined;
}

function newSecret(): string {
  return `${KEY_PREFIX}${randomSecret(32)}`;
}

/** `sk-AbCd…wXyZ`: enough to recognise a key, far too little to guess it. */
export function hintOf(secret: string): string {
  return `${secret.slice(0, KEY_PREFIX.length + 4)}…${secret.slice(-4)}`;
}
