import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditRepository } from '../../src/modules/audit/repository.js';
import { AuditService } from '../../src/modules/audit/service.js';
import { KeysRepository } from '../../src/modules/keys/repository.js';
import { KeysService } from '../../src/modules/keys/service.js';
import { KeyVerifier } from '../../src/modules/keys/verifier.js';
import { auditRows, type ErrorBody, MASTER_KEY, recordingClient, uniqueEmail } from '../support/accounts.js';
import { type Call, ManualClock, register, type SignedIn, startTestApp, type TestApp } from '../support/app.js';
import { ENGINES } from '../support/databases.js';

const SECRET = /^sk-[A-Za-z0-9_-]{43}$/;

interface Key {
  id: string;
  userId: string;
  name: string;
  hint: string;
  status: 'active' | 'disabled' | 'revoked';
  expiresAt: number | null;
  revokedAt: number | null;
}
interface CreatedKey {
  key: Key;
  secret: string;
}
interface KeyPage {
  data: Key[];
  total: number;
}

describe.each(ENGINES)('API keys (%s)', (engine) => {
  const clock = new ManualClock();
  const seen: string[] = [];
  let t: TestApp;
  let call: Call;
  let admin: SignedIn;

  beforeAll(async () => {
    t = await startTestApp({ engine, clock, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
    call = recordingClient(t.url, seen);
    admin = await register(call, uniqueEmail('keys-admin'));
  });
  afterAll(async () => t?.close());

  const verify = (secret: string) => t.services.keyVerifier.verify(secret);
  const createKey = async (token: string, body: Record<string, unknown> = { name: 'k' }) => {
    const res = await call<CreatedKey>('POST', '/api/keys', { token, body });
    if (res.status !== 201) throw new Error(`create key failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  describe('create and read', () => {
    it('creates a key (201) whose secret is sk- plus 43 base64url characters, shown once with a hint', async () => {
      const user = await register(call, uniqueEmail('creator'));
      const res = await call<CreatedKey>('POST', '/api/keys', { token: user.token, body: { name: '  my laptop  ' } });
      expect(res.status).toBe(201);
      const { key, secret } = res.body;
      expect(secret).toMatch(SECRET);
      expect(key).toMatchObject({
        userId: user.userId,
        name: 'my laptop',
        status: 'active',
        expiresAt: null,
        revokedAt: null,
      });
      expect(key.id).toMatch(/^key_/);
      expect(key.hint).toBe(`${secret.slice(0, 7)}…${secret.slice(-4)}`);
      expect(JSON.stringify(key)).not.toContain(secret);

      const list = await call<KeyPage>('GET', '/api/keys', { token: user.token });
      const one = await call<Key>('GET', `/api/keys/${key.id}`, { token: user.token });
      const adminList = await call<KeyPage>('GET', `/api/admin/keys?userId=${user.userId}`, { token: admin.token });
      expect(list.body.data.map((k) => k.id)).toEqual([key.id]);
      expect(one.body.hint).toBe(key.hint);
      for (const answer of [list, one, adminList]) {
        const text = JSON.stringify(answer.body);
        expect(text).not.toContain(secret);
        expect(text).not.toContain(secret.slice(7, -4));
        expect(text).not.toMatch(/key_?hash|keyHash/i);
      }
    });

    it('stores only a hash of the secret', async () => {
      const user = await register(call, uniqueEmail('hash'));
      const { key, secret } = await createKey(user.token);
      const row = await t.database.handle.db
        .selectFrom('api_keys')
        .selectAll()
        .where('id', '=', key.id)
        .executeTakeFirstOrThrow();
      expect(JSON.stringify(row)).not.toContain(secret);
      expect(row.key_hash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('makes a key that verifies at once', async () => {
      const user = await register(call, uniqueEmail('verify'));
      const { key, secret } = await createKey(user.token);
      const result = await verify(secret);
      expect(result).toMatchObject({
        ok: true,
        key: { id: key.id, userId: user.userId, status: 'active', ownerStatus: 'active' },
      });
      expect(await verify(`${secret}x`)).toEqual({ ok: false, code: 'NOT_FOUND' });
      expect(await verify('sk-unknown')).toEqual({ ok: false, code: 'NOT_FOUND' });
    });

    it('rejects a bad name, an unknown field and an expiry in the past with 400', async () => {
      const user = await register(call, uniqueEmail('badkey'));
      for (const body of [
        { name: '' },
        { name: 'x'.repeat(101) },
        {},
        { name: 'k', owner: 'me' },
        { name: 'k', expiresAt: clock.now() - 1 },
        { name: 'k', expiresAt: clock.now() },
      ]) {
        const res = await call<ErrorBody>('POST', '/api/keys', { token: user.token, body });
        expect(res.status, JSON.stringify(body)).toBe(400);
        expect(res.body.error.code).toBe('validation_failed');
      }
      expect((await call<KeyPage>('GET', '/api/keys', { token: user.token })).body.total).toBe(0);
    });

    // minLength 1 alone lets "   " through, which trimming would store as an empty name.
    it('rejects a name that is only spaces with 400 naming the field', async () => {
      const user = await register(call, uniqueEmail('blankname'));
      const res = await call<ErrorBody>('POST', '/api/keys', { token: user.token, body: { name: '   ' } });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('name');
    });

    it('needs a signed-in caller', async () => {
      expect((await call('POST', '/api/keys', { body: { name: 'k' } })).status).toBe(401);
      expect((await call('GET', '/api/keys')).status).toBe(401);
    });
  });

  describe('change, revoke, rotate', () => {
    it('renames and disables/enables a key, which takes effect at once', async () => {
      const user = await register(call, uniqueEmail('patch'));
      const { key, secret } = await createKey(user.token);
      expect(await verify(secret)).toMatchObject({ ok: true });

      const renamed = await call<Key>('PATCH', `/api/keys/${key.id}`, { token: user.token, body: { name: 'renamed' } });
      expect(renamed.status).toBe(200);
      expect(renamed.body.name).toBe('renamed');

      const off = await call<Key>('PATCH', `/api/keys/${key.id}`, { token: user.token, body: { enabled: false } });
      expect(off.body.status).toBe('disabled');
      expect(await verify(secret)).toEqual({ ok: false, code: 'DISABLED' });
      const on = await call<Key>('PATCH', `/api/keys/${key.id}`, { token: user.token, body: { enabled: true } });
      expect(on.body.status).toBe('active');
      expect(await verify(secret)).toMatchObject({ ok: true });
      expect((await call<Key>('GET', `/api/keys/${key.id}`, { token: user.token })).body).toMatchObject({
        name: 'renamed',
        status: 'active',
      });
      expect((await call('PATCH', `/api/keys/${key.id}`, { token: user.token, body: {} })).status).toBe(400);
    });

    it('sets and clears an expiry: the key works until then and is EXPIRED after', async () => {
      const user = await register(call, uniqueEmail('expiry'));
      const { key, secret } = await createKey(user.token);
      const past = await call<ErrorBody>('PATCH', `/api/keys/${key.id}`, {
        token: user.token,
        body: { expiresAt: clock.now() - 1000 },
      });
      expect(past.status).toBe(400);
      expect(past.body.error.message).toContain('expiresAt');

      const expiresAt = clock.now() + 10_000;
      const set = await call<Key>('PATCH', `/api/keys/${key.id}`, { token: user.token, body: { expiresAt } });
      expect(set.body.expiresAt).toBe(expiresAt);
      expect(await verify(secret)).toMatchObject({ ok: true });
      clock.advance(9_999);
      expect(await verify(secret)).toMatchObject({ ok: true });
      clock.advance(1);
      expect(await verify(secret)).toEqual({ ok: false, code: 'EXPIRED' });

      // An expired key is not revoked: its owner can extend the expiry.
      const extended = await call<Key>('PATCH', `/api/keys/${key.id}`, {
        token: user.token,
        body: { expiresAt: clock.now() + 60_000 },
      });
      expect(extended.status).toBe(200);
      expect(await verify(secret)).toMatchObject({ ok: true });
    });

    it('rejects expiresAt: 0 as a past expiry rather than reading it as "never expires"', async () => {
      const user = await register(call, uniqueEmail('zeroexpiry'));
      for (const expiresAt of [0, false, '']) {
        const created = await call<ErrorBody>('POST', '/api/keys', {
          token: user.token,
          body: { name: 'k', expiresAt },
        });
        expect(created.status, JSON.stringify(expiresAt)).toBe(400);
      }
      const { key } = await createKey(user.token, { name: 'k', expiresAt: clock.now() + 1000 });
      const patched = await call<Key & ErrorBody>('PATCH', `/api/keys/${key.id}`, {
        token: user.token,
        body: { expiresAt: 0 },
      });
      expect(patched.status).toBe(400);
    });

    // With coerceTypes, Ajv would turn null into 0 if the integer branch of the union came first.
    it('accepts expiresAt: null for "never expires" when creating and when clearing an expiry', async () => {
      const user = await register(call, uniqueEmail('noexpiry'));
      const created = await call<CreatedKey>('POST', '/api/keys', {
        token: user.token,
        body: { name: 'forever', expiresAt: null },
      });
      expect(created.status).toBe(201);
      expect(created.body.key.expiresAt).toBeNull();
      const { key, secret } = await createKey(user.token, { name: 'k', expiresAt: clock.now() + 1000 });
      const cleared = await call<Key>('PATCH', `/api/keys/${key.id}`, { token: user.token, body: { expiresAt: null } });
      expect(cleared.status).toBe(200);
      expect(cleared.body.expiresAt).toBeNull();
      clock.advance(2000);
      expect(await verify(secret)).toMatchObject({ ok: true });
    });

    it('creates a key with an expiry that passes', async () => {
      const user = await register(call, uniqueEmail('expiring'));
      const { secret } = await createKey(user.token, { name: 'short-lived', expiresAt: clock.now() + 5000 });
      expect(await verify(secret)).toMatchObject({ ok: true });
      clock.advance(5000);
      expect(await verify(secret)).toEqual({ ok: false, code: 'EXPIRED' });
    });

    it('revokes with DELETE (204): REVOKED at once, and a revoked key cannot be changed or rotated (409)', async () => {
      const user = await register(call, uniqueEmail('revoke'));
      const { key, secret } = await createKey(user.token);
      expect(await verify(secret)).toMatchObject({ ok: true });
      const res = await call('DELETE', `/api/keys/${key.id}`, { token: user.token });
      expect(res.status).toBe(204);
      expect(await verify(secret)).toEqual({ ok: false, code: 'REVOKED' });
      const shown = await call<Key>('GET', `/api/keys/${key.id}`, { token: user.token });
      expect(shown.body).toMatchObject({ status: 'revoked', revokedAt: clock.now() });

      for (const [method, path, body] of [
        ['PATCH', `/api/keys/${key.id}`, { enabled: true }],
        ['PATCH', `/api/keys/${key.id}`, { name: 'back from the dead' }],
        ['POST', `/api/keys/${key.id}/rotate`, undefined],
      ] as const) {
        const again = await call<ErrorBody>(method, path, { token: user.token, body });
        expect(again.status, `${method} ${path}`).toBe(409);
        expect(again.body.error.code).toBe('conflict');
      }
      expect(await verify(secret)).toEqual({ ok: false, code: 'REVOKED' });
      // Revoking twice is harmless.
      expect((await call('DELETE', `/api/keys/${key.id}`, { token: user.token })).status).toBe(204);
      expect(await auditRows(t, { action: 'key.revoke', targetId: key.id })).toHaveLength(1);
      const revokedList = await call<KeyPage>('GET', '/api/keys?status=revoked', { token: user.token });
      expect(revokedList.body.data.map((k) => k.id)).toEqual([key.id]);
    });

    it('rotates: same id, a new secret that works, and the old secret is NOT_FOUND at once', async () => {
      const user = await register(call, uniqueEmail('rotate'));
      const { key, secret } = await createKey(user.token);
      expect(await verify(secret)).toMatchObject({ ok: true });
      const res = await call<CreatedKey>('POST', `/api/keys/${key.id}/rotate`, { token: user.token });
      expect(res.status).toBe(200);
      expect(res.body.key.id).toBe(key.id);
      expect(res.body.secret).toMatch(SECRET);
      expect(res.body.secret).not.toBe(secret);
      expect(res.body.key.hint).toBe(`${res.body.secret.slice(0, 7)}…${res.body.secret.slice(-4)}`);
      expect(await verify(res.body.secret)).toMatchObject({ ok: true, key: { id: key.id } });
      expect(await verify(secret)).toEqual({ ok: false, code: 'NOT_FOUND' });
      expect((await call<Key>('GET', `/api/keys/${key.id}`, { token: user.token })).body.hint).toBe(res.body.key.hint);
    });

    it('answers an unknown key id with 404', async () => {
      const user = await register(call, uniqueEmail('unknown'));
      for (const [method, path] of [
        ['GET', '/api/keys/key_nope'],
        ['PATCH', '/api/keys/key_nope'],
        ['DELETE', '/api/keys/key_nope'],
        ['POST', '/api/keys/key_nope/rotate'],
      ] as const) {
        const res = await call<ErrorBody>(method, path, {
          token: user.token,
          body: method === 'PATCH' ? { name: 'x' } : undefined,
        });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.body.error.code).toBe('not_found');
      }
    });
  });

  describe('ownership', () => {
    it("hides a user's keys from another user: 404 on GET, PATCH, DELETE and rotate, and the key keeps working", async () => {
      const alice = await register(call, uniqueEmail('alice'));
      const bob = await register(call, uniqueEmail('bob'));
      const { key, secret } = await createKey(alice.token);
      for (const [method, path, body] of [
        ['GET', `/api/keys/${key.id}`, undefined],
        ['PATCH', `/api/keys/${key.id}`, { enabled: false }],
        ['DELETE', `/api/keys/${key.id}`, undefined],
        ['POST', `/api/keys/${key.id}/rotate`, undefined],
      ] as const) {
        const res = await call<ErrorBody>(method, path, { token: bob.token, body });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.body.error.code).toBe('not_found');
      }
      expect((await call<KeyPage>('GET', '/api/keys', { token: bob.token })).body.total).toBe(0);
      expect(await verify(secret)).toMatchObject({ ok: true, key: { status: 'active' } });
      expect((await call<Key>('GET', `/api/keys/${key.id}`, { token: alice.token })).body.status).toBe('active');
    });

    it('does not let a user create a key for someone else (403), but allows naming themselves', async () => {
      const alice = await register(call, uniqueEmail('alice'));
      const bob = await register(call, uniqueEmail('bob'));
      const res = await call<ErrorBody>('POST', '/api/keys', {
        token: bob.token,
        body: { name: 'stolen', userId: alice.userId },
      });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
      expect(
        (await call<KeyPage>('GET', `/api/admin/keys?userId=${alice.userId}`, { token: admin.token })).body.total,
      ).toBe(0);
      const own = await call<CreatedKey>('POST', '/api/keys', {
        token: bob.token,
        body: { name: 'mine', userId: bob.userId },
      });
      expect(own.status).toBe(201);
    });

    it("lets an admin create, list and revoke another user's keys", async () => {
      const carol = await register(call, uniqueEmail('carol'));
      const made = await call<CreatedKey>('POST', '/api/keys', {
        token: admin.token,
        body: { name: 'for carol', userId: carol.userId },
      });
      expect(made.status).toBe(201);
      expect(made.body.key.userId).toBe(carol.userId);
      expect(await verify(made.body.secret)).toMatchObject({ ok: true, key: { userId: carol.userId } });
      // Carol sees it as hers; it is not the admin's.
      expect((await call<KeyPage>('GET', '/api/keys', { token: carol.token })).body.data.map((k) => k.id)).toEqual([
        made.body.key.id,
      ]);
      expect(
        (await call<KeyPage>('GET', '/api/keys', { token: admin.token })).body.data.map((k) => k.id),
      ).not.toContain(made.body.key.id);

      const second = await createKey(carol.token, { name: 'carol own' });
      const listed = await call<KeyPage>('GET', `/api/admin/keys?userId=${carol.userId}`, { token: admin.token });
      expect(listed.status).toBe(200);
      expect(listed.body.total).toBe(2);
      expect(new Set(listed.body.data.map((k) => k.id))).toEqual(new Set([made.body.key.id, second.key.id]));
      const everyone = await call<KeyPage>('GET', '/api/admin/keys?limit=500', { token: admin.token });
      expect(everyone.body.total).toBeGreaterThanOrEqual(2);
      expect(new Set(everyone.body.data.map((k) => k.userId)).size).toBeGreaterThan(1);

      expect((await call('DELETE', `/api/keys/${second.key.id}`, { token: admin.token })).status).toBe(204);
      expect(await verify(second.secret)).toEqual({ ok: false, code: 'REVOKED' });
      expect((await call('GET', '/api/admin/keys', { token: carol.token })).status).toBe(403);
    });

    it('searches every key by name, hint, id or owner for admins (GET /api/admin/keys?search=)', async () => {
      const erin = await register(call, uniqueEmail('erin-search'));
      const mine = await createKey(erin.token, { name: 'Billing 100%_Job' });
      const other = await createKey(erin.token, { name: 'nightly' });
      const ids = async (search: string) => {
        const res = await call<KeyPage>('GET', `/api/admin/keys?limit=500&search=${encodeURIComponent(search)}`, {
          token: admin.token,
        });
        expect(res.status).toBe(200);
        expect(res.body.total).toBe(res.body.data.length);
        return res.body.data.map((k) => k.id);
      };
      expect(await ids('billing 100%_j')).toEqual([mine.key.id]); // case-insensitive; % and _ literal
      expect(await ids('100%x')).toEqual([]);
      expect(await ids(mine.key.hint.slice(-4))).toContain(mine.key.id);
      expect(await ids(other.key.id)).toEqual([other.key.id]);
      // The owner's email finds every key of theirs.
      expect(new Set(await ids('erin-search'))).toEqual(new Set([mine.key.id, other.key.id]));
      // Combined with the other filters; and only for admins.
      expect(await ids('nightly')).toContain(other.key.id);
      const filtered = await call<KeyPage>(
        'GET',
        `/api/admin/keys?search=erin-search&status=revoked&userId=${erin.userId}`,
        { token: admin.token },
      );
      expect(filtered.body.total).toBe(0);
      expect((await call('GET', '/api/admin/keys?search=erin', { token: erin.token })).status).toBe(403);
      expect((await call('GET', `/api/admin/keys?search=${'x'.repeat(255)}`, { token: admin.token })).status).toBe(400);
    });

    it('needs a userId when the master key creates a key (400), and accepts one', async () => {
      const dave = await register(call, uniqueEmail('dave'));
      const res = await call<ErrorBody>('POST', '/api/keys', { token: MASTER_KEY, body: { name: 'automation' } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toContain('userId');
      const ok = await call<CreatedKey>('POST', '/api/keys', {
        token: MASTER_KEY,
        body: { name: 'automation', userId: dave.userId },
      });
      expect(ok.status).toBe(201);
      expect(ok.body.key.userId).toBe(dave.userId);
      const [row] = await auditRows(t, { action: 'key.create', targetId: ok.body.key.id });
      expect(row).toMatchObject({ actorType: 'master_key', actorId: null });
      const unknown = await call<ErrorBody>('POST', '/api/keys', {
        token: MASTER_KEY,
        body: { name: 'x', userId: 'usr_nobody' },
      });
      expect(unknown.status).toBe(400);
    });
  });

  describe('audit', () => {
    it('records key.create, key.update, key.rotate and key.revoke with actor, target and ip, never the secret', async () => {
      const user = await register(call, uniqueEmail('audited'));
      const { key, secret } = await createKey(user.token, { name: 'audited' });
      await call('PATCH', `/api/keys/${key.id}`, { token: user.token, body: { name: 'audited 2' } });
      const rotated = await call<CreatedKey>('POST', `/api/keys/${key.id}/rotate`, { token: user.token });
      await call('DELETE', `/api/keys/${key.id}`, { token: admin.token });

      const rows = await auditRows(t, { targetId: key.id });
      const byAction = Object.fromEntries(rows.map((r) => [r.action, r]));
      expect(Object.keys(byAction).sort()).toEqual(['key.create', 'key.revoke', 'key.rotate', 'key.update']);
      for (const action of ['key.create', 'key.update', 'key.rotate']) {
        expect(byAction[action], action).toMatchObject({
          actorType: 'user',
          actorId: user.userId,
          targetType: 'api_key',
          ip: '127.0.0.1',
        });
      }
      expect(byAction['key.revoke']).toMatchObject({
        actorId: admin.userId,
        ip: '127.0.0.1',
        detail: { ownerId: user.userId },
      });
      expect(byAction['key.create']?.detail).toMatchObject({ name: 'audited', ownerId: user.userId });
      const text = JSON.stringify(rows);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(rotated.body.secret);
    });
  });

  describe('verification cache', () => {
    let owner: SignedIn;
    let known: CreatedKey;
    let repo: KeysRepository;
    let cacheClock: ManualClock;
    let verifier: KeyVerifier;
    let findByHash: ReturnType<typeof vi.spyOn>;

    beforeAll(async () => {
      owner = await register(call, uniqueEmail('cache'));
      known = await createKey(owner.token);
    });

    const fresh = () => {
      repo = new KeysRepository(t.database.handle.db);
      cacheClock = new ManualClock();
      verifier = new KeyVerifier(repo, cacheClock);
      findByHash = vi.spyOn(repo, 'findByHash');
    };

    it('verifies a known key 100 times with one database query', async () => {
      fresh();
      for (let i = 0; i < 100; i++) expect((await verifier.verify(known.secret)).ok).toBe(true);
      expect(findByHash).toHaveBeenCalledTimes(1);
    });

    it('re-reads a known key after the cache lifetime (60 s)', async () => {
      fresh();
      await verifier.verify(known.secret);
      cacheClock.advance(60_000);
      await verifier.verify(known.secret);
      expect(findByHash).toHaveBeenCalledTimes(1);
      cacheClock.advance(1);
      await verifier.verify(known.secret);
      expect(findByHash).toHaveBeenCalledTimes(2);
    });

    it('remembers an unknown key as unknown for 5 s', async () => {
      fresh();
      const unknown = 'sk-this-key-does-not-exist-anywhere-000000000';
      expect(await verifier.verify(unknown)).toEqual({ ok: false, code: 'NOT_FOUND' });
      cacheClock.advance(4_000);
      expect(await verifier.verify(unknown)).toEqual({ ok: false, code: 'NOT_FOUND' });
      expect(findByHash).toHaveBeenCalledTimes(1);
      cacheClock.advance(1_001);
      await verifier.verify(unknown);
      expect(findByHash).toHaveBeenCalledTimes(2);
    });

    it('reloads a key after invalidateKey, and all of a user’s keys after invalidateUser', async () => {
      fresh();
      const other = await createKey(admin.token, { name: 'someone else' });
      await verifier.verify(known.secret);
      await verifier.verify(other.secret);
      expect(findByHash).toHaveBeenCalledTimes(2);

      verifier.invalidateKey(known.key.id);
      await verifier.verify(known.secret);
      await verifier.verify(other.secret);
      expect(findByHash).toHaveBeenCalledTimes(3);

      verifier.invalidateUser(owner.userId);
      await verifier.verify(known.secret);
      await verifier.verify(other.secret);
      expect(findByHash).toHaveBeenCalledTimes(4);

      verifier.invalidateUser('usr_unrelated');
      verifier.invalidateKey('key_unrelated');
      await verifier.verify(known.secret);
      expect(findByHash).toHaveBeenCalledTimes(4);
    });

    it('keeps serving a stale answer until invalidated (why services must invalidate)', async () => {
      fresh();
      const mine = await createKey(owner.token);
      expect((await verifier.verify(mine.secret)).ok).toBe(true);
      // Disabled through the app: the app's verifier is invalidated, this private one is not.
      await call('PATCH', `/api/keys/${mine.key.id}`, { token: owner.token, body: { enabled: false } });
      expect((await verifier.verify(mine.secret)).ok).toBe(true);
      verifier.invalidateKey(mine.key.id);
      expect(await verifier.verify(mine.secret)).toEqual({ ok: false, code: 'DISABLED' });
    });

    // The cache entry must be dropped after the new hash is written, or a racing verification re-caches the old one.
    it('does not let a verification racing a rotation keep the old secret alive', async () => {
      fresh();
      const audit = new AuditService(new AuditRepository(t.database.handle.db), cacheClock, t.services.newId);
      const keys = new KeysService(repo, t.services.users, verifier, audit, cacheClock, t.services.newId);
      const mine = await createKey(owner.token);
      expect((await verifier.verify(mine.secret)).ok).toBe(true);
      const write = repo.update.bind(repo);
      vi.spyOn(repo, 'update').mockImplementationOnce(async (id, patch) => {
        await verifier.verify(mine.secret); // a request arriving while the rotation is in flight
        await write(id, patch);
      });
      await keys.rotate(mine.key.id, {
        principal: await t.services.access.principal(
          { kind: 'user', user: await t.services.users.get(owner.userId) },
          undefined,
        ),
        ip: null,
      });
      expect(await verifier.verify(mine.secret)).toEqual({ ok: false, code: 'NOT_FOUND' });
    });
  });

  it('never sends a secret or key hash in a list or get answer', () => {
    const lists = seen.filter((line) => line.startsWith('GET /api/keys') || line.startsWith('GET /api/admin/keys'));
    expect(lists.length).toBeGreaterThan(5);
    for (const line of lists) {
      expect(line).not.toMatch(/sk-[A-Za-z0-9_-]{43}/);
      expect(line).not.toMatch(/key_hash|keyHash/);
    }
  });
});
