import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { parseCidr } from '../../core/ip.js';
import { randomSecret, sha256Hex } from '../../core/secrets.js';
import type { ApiKeysTable, KeyStatus } from '../../infra/db/schema.js';
import type { Actor, AuditService } from '../audit/service.js';
import { actorOf, isAdmin, type Principal } from '../auth/principal.js';
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
}

export interface CreateKeyInput extends KeyRestrictions {
  name: string;
  expiresAt?: number | null | undefined;
  /** Owner; defaults to the caller. Only admins may name another user. */
  userId?: string | undefined;
  /** Team the key bills to (admins only). */
  teamId?: string | null | undefined;
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
    const ownerId = input.userId ?? (ctx.principal.kind === 'user' ? ctx.principal.userId : undefined);
    if (!ownerId)
      throw new ApiError('validation_failed', 'userId is required when calling with the master key', {
        param: 'userId',
      });
    if (ownerId !== selfId(ctx.principal) && !isAdmin(ctx.principal))
      throw new ApiError('forbidden', 'Only admins can create keys for other users');
    const owner = await this.users.get(ownerId).catch(() => {
      throw new ApiError('validation_failed', `User ${ownerId} does not exist`, { param: 'userId' });
    });
    if (owner.status !== 'active')
      throw new ApiError('validation_failed', 'Cannot create a key for a disabled user', { param: 'userId' });
    const now = this.clock.now();
    this.checkExpiry(input.expiresAt, now);
    validateRestrictions(input);
    if (input.teamId && !isAdmin(ctx.principal))
      throw new ApiError('forbidden', 'Only admins can put a key in a team', { param: 'teamId' });
    if (input.teamId && !(await this.repo.teamExists(input.teamId)))
      throw new ApiError('validation_failed', `Team ${input.teamId} does not exist`, { param: 'teamId' });
    const secret = newSecret();
    const row: ApiKeysTable = {
      id: this.newId('key'),
      user_id: owner.id,
      // A key belongs to the organization it is created in.
      org_id: ctx.principal.orgId,
      team_id: input.teamId ?? null,
      team_owned: 0,
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
    await this.record(ctx, 'key.create', row.id, { name: row.name, ownerId: owner.id });
    return { key: toKeyResponse(row), secret };
  }

  list(query: KeyListQuery): Promise<{ rows: ApiKeysTable[]; total: number }> {
    return this.repo.list(query);
  }

  /** The caller's own keys (the master key owns none). */
  listOwn(principal: Principal, query: Omit<KeyListQuery, 'userId'>): Promise<{ rows: ApiKeysTable[]; total: number }> {
    if (principal.kind !== 'user')
      throw new ApiError('bad_request', 'The master key owns no keys; use GET /api/admin/keys');
    return this.repo.list({ ...query, userId: principal.userId });
  }

  async getById(id: string): Promise<ApiKeysTable> {
    const row = await this.repo.findById(id);
    if (!row) throw notFound('API key');
    return row;
  }

  /** A key the caller may see: its own, or any for admins. Others' keys are "not found". */
  async getVisible(id: string, principal: Principal): Promise<ApiKeysTable> {
    const row = await this.repo.findById(id);
    if (!row || (!isAdmin(principal) && row.user_id !== selfId(principal))) throw notFound('API key');
    return row;
  }

  async update(id: string, input: UpdateKeyInput, ctx: RequestContext): Promise<ApiKeysTable> {
    const row = await this.getVisible(id, ctx.principal);
    if (row.status === 'revoked') throw new ApiError('conflict', 'This key is revoked and cannot be changed');
    const now = this.clock.now();
    const patch: Partial<ApiKeysTable> = { updated_at: now };
    if (input.name !== undefined) patch.name = input.name.trim();
    if (input.enabled !== undefined) patch.status = input.enabled ? 'active' : 'disabled';
    if (input.expiresAt !== undefined) {
      this.checkExpiry(input.expiresAt, now);
      patch.expires_at = input.expiresAt;
    }
    if (input.teamId !== undefined) {
      if (!isAdmin(ctx.principal))
        throw new ApiError('forbidden', 'Only admins can move a key between teams', { param: 'teamId' });
      if (input.teamId && !(await this.repo.teamExists(input.teamId)))
        throw new ApiError('validation_failed', `Team ${input.teamId} does not exist`, { param: 'teamId' });
      patch.team_id = input.teamId;
    }
    validateRestrictions(input);
    Object.assign(patch, restrictionColumns(input, policyFromColumns(row)));
    await this.repo.update(id, patch);
    this.verifier.invalidateKey(id);
    await this.record(ctx, 'key.update', id, {
      changes: Object.keys(input).filter((k) => input[k as keyof UpdateKeyInput] !== undefined),
    });
    return { ...row, ...patch };
  }

  async revoke(id: string, ctx: RequestContext): Promise<void> {
    const row = await this.getVisible(id, ctx.principal);
    if (row.status === 'revoked') return;
    const now = this.clock.now();
    await this.repo.update(id, { status: 'revoked', revoked_at: now, updated_at: now });
    this.verifier.invalidateKey(id);
    await this.record(ctx, 'key.revoke', id, { ownerId: row.user_id });
  }

  /** Replace the secret of a key (same id, settings and history); the old secret stops working at once. */
  async rotate(id: string, ctx: RequestContext): Promise<CreatedKey> {
    const row = await this.getVisible(id, ctx.principal);
    if (row.status === 'revoked') throw new ApiError('conflict', 'This key is revoked and cannot be rotated');
    const secret = newSecret();
    const patch = { key_hash: sha256Hex(secret), hint: hintOf(secret), updated_at: this.clock.now() };
    await this.repo.update(id, patch);
    this.verifier.invalidateKey(id);
    await this.record(ctx, 'key.rotate', id, { ownerId: row.user_id });
    return { key: toKeyResponse({ ...row, ...patch }), secret };
  }

  private checkExpiry(expiresAt: number | null | undefined, now: number): void {
    if (expiresAt !== undefined && expiresAt !== null && expiresAt <= now) {
      throw new ApiError('validation_failed', 'expiresAt must be in the future', { param: 'expiresAt' });
    }
  }

  private record(ctx: RequestContext, action: string, keyId: string, detail: Record<string, unknown>): Promise<void> {
    const actor: Actor = actorOf(ctx.principal);
    return this.audit.record({ actor, action, targetType: 'api_key', targetId: keyId, ip: ctx.ip, detail });
  }
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
