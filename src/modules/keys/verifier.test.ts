/**
 * The key verifier without HTTP or a database: verdicts in a fixed order, the in-memory cache with its
 * TTLs, and invalidation (including a load that raced one, which must not be cached).
 */
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../core/secrets.js';
import type { KeysRepository, KeyWithOwner } from './repository.js';
import { KeyVerifier } from './verifier.js';

class Clock {
  time = 1_000_000;
  now(): number {
    return this.time;
  }
}

function row(secret: string, extra: Partial<KeyWithOwner> = {}): KeyWithOwner {
  return {
    id: `key_${secret}`,
    user_id: 'usr_1',
    org_id: 'org_1',
    team_id: 'team_1',
    team_owned: 0,
    org_status: 'active',
    org_models: null,
    team_models: null,
    org_channel_groups: null,
    team_channel_groups: null,
    name: 'k',
    key_hash: sha256Hex(secret),
    hint: 'sk-…',
    status: 'active',
    expires_at: null,
    created_at: 0,
    updated_at: 0,
    last_used_at: null,
    revoked_at: null,
    allowed_models: '["gpt-*"]',
    allowed_ips: null,
    response_cache: null,
    budget_micros: 5,
    budget_period: 'day',
    token_quota: null,
    token_quota_period: null,
    rpm: 10,
    tpm: null,
    max_concurrency: null,
    metadata: null,
    owner_status: 'active',
    ...extra,
  };
}

/** A repository over an in-memory table that counts its queries. */
function repoOf(rows: KeyWithOwner[]) {
  const table = new Map(rows.map((r) => [r.key_hash, r]));
  const repo = {
    queries: 0,
    /** Run before a query answers (to interleave an invalidation). */
    during: undefined as (() => void) | undefined,
    async findByHash(hash: string) {
      repo.queries++;
      repo.during?.();
      return table.get(hash);
    },
    table,
  };
  return repo;
}

const verifierOf = (repo: ReturnType<typeof repoOf>, clock: Clock, options = {}) =>
  new KeyVerifier(repo as unknown as KeysRepository, clock, options);

describe('KeyVerifier', () => {
  it('returns the key with its restrictions and limits', async () => {
    const result = await verifierOf(repoOf([row('good')]), new Clock()).verify('good');
    expect(result).toMatchObject({
      ok: true,
      key: { id: 'key_good', teamId: 'team_1', allowedModels: ['gpt-*'], allowedIps: null },
    });
    if (result.ok) expect(result.key.limits).toMatchObject({ budgetMicros: 5, budgetPeriod: 'day', rpm: 10 });
  });

  it('checks in a fixed order: found, revoked, disabled, expired, owner', async () => {
    const clock = new Clock();
    const repo = repoOf([
      row('revoked', { status: 'revoked', expires_at: 0, owner_status: 'disabled' }),
      row('disabled', { status: 'disabled', expires_at: 0, owner_status: 'disabled' }),
      row('expired', { expires_at: clock.now(), owner_status: 'disabled' }),
      row('orphan', { owner_status: 'disabled' }),
    ]);
    const verifier = verifierOf(repo, clock);
    const codes = [];
    for (const secret of ['missing', 'revoked', 'disabled', 'expired', 'orphan']) {
      const result = await verifier.verify(secret);
      codes.push(result.ok ? 'OK' : result.code);
    }
    expect(codes).toEqual(['NOT_FOUND', 'REVOKED', 'DISABLED', 'EXPIRED', 'OWNER_DISABLED']);
  });

  it('answers from memory until the TTL, then reads again', async () => {
    const clock = new Clock();
    const repo = repoOf([row('good')]);
    const verifier = verifierOf(repo, clock, { ttlMs: 1000 });
    await verifier.verify('good');
    await verifier.verify('good');
    expect(repo.queries).toBe(1);
    clock.time += 1001;
    await verifier.verify('good');
    expect(repo.queries).toBe(2);
  });

  it('remembers an unknown key for the shorter negative TTL', async () => {
    const clock = new Clock();
    const repo = repoOf([]);
    const verifier = verifierOf(repo, clock, { negativeTtlMs: 100 });
    await verifier.verify('nope');
    await verifier.verify('nope');
    expect(repo.queries).toBe(1);
    clock.time += 101;
    await verifier.verify('nope');
    expect(repo.queries).toBe(2);
  });

  it('an invalidated key is read again at once, and listeners hear of it', async () => {
    const repo = repoOf([row('good')]);
    const verifier = verifierOf(repo, new Clock());
    const heard: unknown[] = [];
    verifier.onInvalidate((what) => heard.push(what));
    await verifier.verify('good');
    repo.table.set(sha256Hex('good'), row('good', { status: 'revoked' }));
    verifier.invalidateKey('key_good');
    expect(await verifier.verify('good')).toEqual({ ok: false, code: 'REVOKED' });
    expect(heard).toEqual([{ kind: 'key', id: 'key_good' }]);
    verifier.invalidateUser('usr_1', false);
    expect(heard).toHaveLength(1);
  });

  it('does not cache a load that raced an invalidation (it may have read the old row)', async () => {
    const repo = repoOf([row('good')]);
    const verifier = verifierOf(repo, new Clock());
    repo.during = () => verifier.invalidateTeam('team_1');
    await verifier.verify('good');
    repo.during = undefined;
    await verifier.verify('good');
    expect(repo.queries).toBe(2);
  });
});
