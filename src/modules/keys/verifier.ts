import type { Clock } from '../../core/clock.js';
import { sha256Hex } from '../../core/secrets.js';
import type { KeyLookup } from '../../gateway/ports.js';
import type { KeyStatus, UserStatus } from '../../infra/db/schema.js';
import { type LimitPolicy, policyFromColumns } from '../limits/policy.js';
import type { KeysRepository, KeyWithOwner } from './repository.js';

/** What the data plane needs to know about a key, held in memory. */
export interface KeyRecord {
  id: string;
  userId: string;
  orgId: string;
  teamId: string | null;
  name: string;
  status: KeyStatus;
  expiresAt: number | null;
  ownerStatus: UserStatus;
  allowedModels: string[] | null;
  /** The organization's and the team's model access lists (each must match too). */
  modelLimits: string[][];
  /** The organization's and the team's channel groups (a channel must be in one of each). */
  channelLimits: string[][];
  allowedIps: string[] | null;
  /** Answers to this key's requests are cached (docs/response-cache.md). */
  responseCache: boolean;
  limits: LimitPolicy;
  /** A service key owned by its team: it does not depend on its creator's account. */
  teamOwned: boolean;
  orgStatus: 'active' | 'disabled';
}

export type KeyVerification =
  | { ok: true; key: KeyRecord }
  | { ok: false; code: 'NOT_FOUND' | 'REVOKED' | 'DISABLED' | 'EXPIRED' | 'OWNER_DISABLED' | 'ORG_DISABLED' };

interface CacheEntry {
  record: KeyRecord | null;
  loadedAt: number;
}

export interface KeyVerifierOptions {
  /** How long a cached key is trusted before it is re-read (bounds staleness across instances). */
  ttlMs?: number;
  /** How long an unknown key is remembered as unknown (protects the DB from floods of bad keys). */
  negativeTtlMs?: number;
  maxNegativeEntries?: number;
}

/**
 * Verifies virtual API keys from an in-memory cache: no database query in steady state. Changes made
 * through KeysService/UsersService invalidate entries at once in this process, and (with Redis, through the
 * change bus) in the other instances.
 */
export class KeyVerifier implements KeyLookup {
  readonly #cache = new Map<string, CacheEntry>();
  readonly #hashById = new Map<string, string>();
  readonly #invalidateListeners: Array<(what: { kind: 'key' | 'user' | 'team' | 'org'; id: string }) => void> = [];
  #negativeCount = 0;
  /** Bumped by every invalidation: a load that raced one is not cached (it may have read the old row). */
  #generation = 0;
  readonly #ttlMs: number;
  readonly #negativeTtlMs: number;
  readonly #maxNegative: number;

  constructor(
    private readonly repo: KeysRepository,
    private readonly clock: Clock,
    options: KeyVerifierOptions = {},
  ) {
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#negativeTtlMs = options.negativeTtlMs ?? 5_000;
    this.#maxNegative = options.maxNegativeEntries ?? 10_000;
  }

  /** Check a presented secret; checks run in a fixed order (found, revoked, disabled, expired, owner). */
  verify(secret: string): Promise<KeyVerification> {
    return this.verifyHash(sha256Hex(secret));
  }

  /** The same checks for a key known by id (a batch's lines run as the key that created the batch). */
  async verifyId(keyId: string): Promise<KeyVerification> {
    const hash = this.#hashById.get(keyId) ?? (await this.repo.findById(keyId))?.key_hash;
    if (hash === undefined) return { ok: false, code: 'NOT_FOUND' };
    return this.verifyHash(hash);
  }

  private async verifyHash(hash: string): Promise<KeyVerification> {
    const now = this.clock.now();
    let entry = this.#cache.get(hash);
    if (!entry || now - entry.loadedAt > (entry.record ? this.#ttlMs : this.#negativeTtlMs)) {
      entry = await this.load(hash, now);
    }
    const key = entry.record;
    if (!key) return { ok: false, code: 'NOT_FOUND' };
    if (key.status === 'revoked') return { ok: false, code: 'REVOKED' };
    if (key.status === 'disabled') return { ok: false, code: 'DISABLED' };
    if (key.expiresAt !== null && key.expiresAt <= now) return { ok: false, code: 'EXPIRED' };
    if (key.ownerStatus !== 'active' && !key.teamOwned) return { ok: false, code: 'OWNER_DISABLED' };
    if (key.orgStatus !== 'active') return { ok: false, code: 'ORG_DISABLED' };
    return { ok: true, key };
  }

  /** Called when an entry is dropped here (not when another instance's change is applied with `notify` off). */
  onInvalidate(listener: (what: { kind: 'key' | 'user' | 'team' | 'org'; id: string }) => void): void {
    this.#invalidateListeners.push(listener);
  }

  private notify(kind: 'key' | 'user' | 'team' | 'org', id: string): void {
    for (const listener of this.#invalidateListeners) listener({ kind, id });
  }

  /** Forget one key (after update, revoke, rotate). */
  invalidateKey(keyId: string, notify = true): void {
    if (notify) this.notify('key', keyId);
    this.#generation++;
    const hash = this.#hashById.get(keyId);
    if (hash) this.#cache.delete(hash);
    this.#hashById.delete(keyId);
  }

  /** Forget every key of a team (after the team is deleted). */
  invalidateTeam(teamId: string, notify = true): void {
    if (notify) this.notify('team', teamId);
    this.#generation++;
    for (const [hash, entry] of this.#cache) {
      if (entry.record?.teamId === teamId) {
        this.#cache.delete(hash);
        this.#hashById.delete(entry.record.id);
      }
    }
  }

  /** Forget every key of an organization (its status or model access changed). */
  invalidateOrg(orgId: string, notify = true): void {
    if (notify) this.notify('org', orgId);
    this.#generation++;
    for (const [hash, entry] of this.#cache) {
      if (entry.record?.orgId === orgId) {
        this.#cache.delete(hash);
        this.#hashById.delete(entry.record.id);
      }
    }
  }

  /** Forget every key of a user (after the user is disabled or changed). */
  invalidateUser(userId: string, notify = true): void {
    if (notify) this.notify('user', userId);
    this.#generation++;
    for (const [hash, entry] of this.#cache) {
      if (entry.record?.userId === userId) {
        this.#cache.delete(hash);
        this.#hashById.delete(entry.record.id);
      }
    }
  }

  private async load(hash: string, now: number): Promise<CacheEntry> {
    const generation = this.#generation;
    const row = await this.repo.findByHash(hash);
    const entry: CacheEntry = { record: row ? toKeyRecord(row) : null, loadedAt: now };
    if (generation !== this.#generation) return entry;
    if (entry.record) {
      this.#hashById.set(entry.record.id, hash);
    } else {
      if (this.#negativeCount >= this.#maxNegative) this.dropNegatives();
      this.#negativeCount++;
    }
    this.#cache.set(hash, entry);
    return entry;
  }

  private dropNegatives(): void {
    for (const [hash, entry] of this.#cache) if (!entry.record) this.#cache.delete(hash);
    this.#negativeCount = 0;
  }
}

function parseList(json: string | null): string[] | null {
  if (!json) return null;
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : null;
}

function toKeyRecord(row: KeyWithOwner): KeyRecord {
  return {
    id: row.id,
    userId: row.user_id,
    orgId: row.org_id,
    teamId: row.team_id,
    name: row.name,
    status: row.status,
    expiresAt: row.expires_at,
    ownerStatus: row.owner_status,
    allowedModels: parseList(row.allowed_models),
    modelLimits: [parseList(row.org_models), parseList(row.team_models)].filter((l): l is string[] => l !== null),
    channelLimits: [parseList(row.org_channel_groups), parseList(row.team_channel_groups)].filter(
      (l): l is string[] => l !== null,
    ),
    allowedIps: parseList(row.allowed_ips),
    responseCache: Number(row.response_cache) === 1,
    limits: policyFromColumns(row),
    teamOwned: row.team_owned === 1,
    orgStatus: row.org_status,
  };
}
