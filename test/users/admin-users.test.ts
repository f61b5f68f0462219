import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, type ErrorBody, MASTER_KEY, recordingClient, uniqueEmail } from '../support/accounts.js';
import { type Call, client, ManualClock, register, type SignedIn, startTestApp, type TestApp } from '../support/app.js';
import { ENGINES } from '../support/databases.js';

const PASSWORD = 'correct horse 1';

interface User {
  id: string;
  email: string;
  name: string;
  role: 'admin' | 'user';
  status: 'active' | 'disabled';
}
interface UserPage {
  data: User[];
  total: number;
}
interface AuditPage {
  data: Array<{
    id: string;
    at: number;
    action: string;
    actorId: string | null;
    actorType: string;
    targetId: string | null;
    targetType: string | null;
    ip: string | null;
    detail: Record<string, unknown> | null;
    actorName: string | null;
    targetName: string | null;
  }>;
  nextCursor: string | null;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
}

describe.each(ENGINES)('admin: users (%s)', (engine) => {
  const clock = new ManualClock();
  const seen: string[] = [];
  let t: TestApp;
  let call: Call;
  let admin: SignedIn;
  let plain: SignedIn;

  beforeAll(async () => {
    t = await startTestApp({ engine, clock, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
    call = recordingClient(t.url, seen);
    admin = await register(call, uniqueEmail('admin'));
    plain = await register(call, uniqueEmail('plain'));
  });
  afterAll(async () => t?.close());

  const login = (email: string, password: string) =>
    call<{ accessToken: string } & ErrorBody>('POST', '/api/auth/login', { body: { email, password } });
  const createUser = async (body: Record<string, unknown>) => {
    const res = await call<User>('POST', '/api/admin/users', {
      token: admin.token,
      body: { password: PASSWORD, ...body },
    });
    if (res.status !== 201) throw new Error(`create user failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  describe('access', () => {
    const known: Array<[string, string, unknown?]> = [
      ['GET', '/api/admin/users'],
      ['POST', '/api/admin/users', { email: 'sneaky@foundation.io', password: PASSWORD, role: 'admin' }],
      ['GET', '/api/admin/users/:id'],
      ['PATCH', '/api/admin/users/:id', { role: 'user' }],
      ['GET', '/api/admin/keys'],
      ['GET', '/api/admin/audit'],
      ['GET', '/api/admin/settings'],
      ['PATCH', '/api/admin/settings', { registrationEnabled: false }],
    ];

    it('refuses every admin route to a plain user (403) and to an anonymous caller (401), changing nothing', async () => {
      for (const [method, template, body] of known) {
        const path = template.replace(':id', admin.userId);
        const asUser = await call<ErrorBody>(method, path, { token: plain.token, body });
        expect(asUser.status, `${method} ${path} as user`).toBe(403);
        expect(asUser.body.error.code).toBe('forbidden');
        const anonymous = await call<ErrorBody>(method, path, { body });
        expect(anonymous.status, `${method} ${path} anonymous`).toBe(401);
        expect(anonymous.body.error.code).toBe('unauthorized');
      }
      expect(await t.services.users.findByEmail('sneaky@foundation.io')).toBeUndefined();
      expect((await t.services.users.get(admin.userId)).role).toBe('admin');
      expect(t.services.settings.get().registrationEnabled).toBe(true);
    });

    it('never serves any /api/admin route listed in the OpenAPI document to a plain user or anonymously', async () => {
      const doc = await call<OpenApiDocument>('GET', '/openapi.json');
      const routes = Object.entries(doc.body.paths)
        .filter(([path]) => path.startsWith('/api/admin'))
        .flatMap(([path, ops]) =>
          Object.keys(ops).map((method) => [method.toUpperCase(), path.replace(/\{[^}]+\}/g, admin.userId)] as const),
        );
      expect(routes.length).toBeGreaterThanOrEqual(known.length);
      for (const [method, path] of routes) {
        const body = method === 'GET' || method === 'DELETE' ? undefined : {};
        for (const [who, token, refused] of [
          ['user', plain.token, 403],
          ['anonymous', undefined, 401],
        ] as const) {
          const res = await call<ErrorBody>(method, path, { token, body });
          // Input is validated before the guard runs, so a request without the right input may get a 400
          // validation error instead; it is never served, never a 404 and never a crash.
          const ok = res.status === refused || (res.status === 400 && res.body.error.code === 'validation_failed');
          expect(ok, `${method} ${path} as ${who} → ${res.status} ${JSON.stringify(res.body)}`).toBe(true);
        }
      }
    });
  });

  describe('list, create, get', () => {
    it('creates a user (201), who can then sign in; a duplicate email is 409', async () => {
      const email = uniqueEmail('created');
      const res = await call<User>('POST', '/api/admin/users', {
        token: admin.token,
        body: { email, password: PASSWORD, name: 'Created One', role: 'admin' },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ email, name: 'Created One', role: 'admin', status: 'active' });
      expect(res.body.id).toMatch(/^usr_/);
      expect((await login(email, PASSWORD)).status).toBe(200);
      const rows = await auditRows(t, { action: 'user.create', targetId: res.body.id });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        actorType: 'user',
        actorId: admin.userId,
        ip: '127.0.0.1',
        detail: { email, role: 'admin' },
      });

      const dup = await call<ErrorBody>('POST', '/api/admin/users', {
        token: admin.token,
        body: { email: email.toUpperCase(), password: PASSWORD },
      });
      expect(dup.status).toBe(409);
      expect(dup.body.error.code).toBe('conflict');
    });

    it('rejects bad input when creating with 400 naming the field', async () => {
      const bad = await call<ErrorBody>('POST', '/api/admin/users', {
        token: admin.token,
        body: { email: uniqueEmail('bad'), password: PASSWORD, role: 'root' },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toContain('role');
      const short = await call<ErrorBody>('POST', '/api/admin/users', {
        token: admin.token,
        body: { email: uniqueEmail('bad'), password: 'short' },
      });
      expect(short.status).toBe(400);
      expect(short.body.error.message).toContain('password');
    });

    it('gets one user, and answers an unknown id with 404 not_found', async () => {
      const res = await call<User>('GET', `/api/admin/users/${plain.userId}`, { token: admin.token });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: plain.userId, email: plain.email, role: 'user' });
      const missing = await call<ErrorBody>('GET', '/api/admin/users/usr_doesnotexist', { token: admin.token });
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('not_found');
    });

    it('lists with search, role and status filters and a total for pagination', async () => {
      const tag = `lst${Math.random().toString(36).slice(2, 8)}`;
      const made: User[] = [];
      for (let i = 0; i < 5; i++) {
        clock.advance(1);
        made.push(await createUser({ email: `${tag}-${i}@foundation.io`, role: i === 0 ? 'admin' : 'user' }));
      }
      await call('PATCH', `/api/admin/users/${made[4]?.id}`, { token: admin.token, body: { status: 'disabled' } });
      const list = (query: string) =>
        call<UserPage>('GET', `/api/admin/users?search=${tag}${query}`, { token: admin.token });

      const all = await list('');
      expect(all.status).toBe(200);
      expect(all.body.total).toBe(5);
      // Newest first.
      expect(all.body.data.map((u) => u.id)).toEqual(made.map((u) => u.id).reverse());
      expect((await list('&role=admin')).body.data.map((u) => u.id)).toEqual([made[0]?.id]);
      expect((await list('&status=disabled')).body.data.map((u) => u.id)).toEqual([made[4]?.id]);
      expect((await list('&role=user&status=active')).body.total).toBe(3);

      const page1 = await list('&limit=2&offset=0');
      const page2 = await list('&limit=2&offset=2');
      const page3 = await list('&limit=2&offset=4');
      expect([page1.body.total, page2.body.total, page3.body.total]).toEqual([5, 5, 5]);
      expect([page1.body.data.length, page2.body.data.length, page3.body.data.length]).toEqual([2, 2, 1]);
      const paged = [...page1.body.data, ...page2.body.data, ...page3.body.data].map((u) => u.id);
      expect(paged).toEqual(all.body.data.map((u) => u.id));

      const everyone = await call<UserPage>('GET', '/api/admin/users?limit=500', { token: admin.token });
      expect(everyone.body.total).toBeGreaterThanOrEqual(7);
      expect((await call<ErrorBody>('GET', '/api/admin/users?limit=0', { token: admin.token })).status).toBe(400);
      expect((await call<ErrorBody>('GET', '/api/admin/users?role=root', { token: admin.token })).status).toBe(400);
    });

    it('sorts by email, name or last sign-in, either way; who never signed in counts as the oldest', async () => {
      const tag = `srt${Math.random().toString(36).slice(2, 8)}`;
      const specs = [
        { email: `${tag}-c@foundation.io`, name: 'Bea' },
        { email: `${tag}-a@foundation.io`, name: 'Cid' },
        { email: `${tag}-b@foundation.io`, name: 'Ann' },
      ];
      const made: User[] = [];
      for (const spec of specs) {
        clock.advance(1);
        made.push(await createUser(spec));
      }
      // b signs in first, then c; a never does.
      clock.advance(1000);
      expect((await login(specs[2]?.email as string, PASSWORD)).status).toBe(200);
      clock.advance(1000);
      expect((await login(specs[0]?.email as string, PASSWORD)).status).toBe(200);
      const order = async (query: string) => {
        const res = await call<UserPage>('GET', `/api/admin/users?search=${tag}${query}`, { token: admin.token });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        return res.body.data.map((u) => u.email.slice(tag.length + 1, tag.length + 2));
      };
      expect(await order('')).toEqual(['b', 'a', 'c']);
      expect(await order('&sort=createdAt&order=asc')).toEqual(['c', 'a', 'b']);
      expect(await order('&sort=email')).toEqual(['a', 'b', 'c']);
      expect(await order('&sort=email&order=desc')).toEqual(['c', 'b', 'a']);
      expect(await order('&sort=name')).toEqual(['b', 'c', 'a']);
      expect(await order('&sort=lastLoginAt&order=desc')).toEqual(['c', 'b', 'a']);
      expect(await order('&sort=lastLoginAt&order=asc')).toEqual(['a', 'b', 'c']);
      // Pages follow the order.
      expect(await order('&sort=email&limit=2&offset=2')).toEqual(['c']);
      for (const bad of ['&sort=role', '&order=sideways'])
        expect((await call('GET', `/api/admin/users?search=${tag}${bad}`, { token: admin.token })).status).toBe(400);
    });

    it('finds users by part of the email, case-insensitively', async () => {
      const tag = `Mixed${Math.random().toString(36).slice(2, 8)}`;
      const user = await createUser({ email: `${tag}@foundation.io` });
      for (const search of [tag, tag.toUpperCase(), tag.toLowerCase().slice(2)]) {
        const res = await call<UserPage>('GET', `/api/admin/users?search=${search}`, { token: admin.token });
        expect(
          res.body.data.map((u) => u.id),
          search,
        ).toEqual([user.id]);
      }
    });

    // PostgreSQL's LIKE is case-sensitive: the search must lower-case the column too, not only the text.
    it('finds users by part of the display name, case-insensitively', async () => {
      const name = `Zelda Quinn ${Math.random().toString(36).slice(2, 8)}`;
      const user = await createUser({ email: uniqueEmail('byname'), name });
      for (const search of [name, 'zelda quinn', 'ZELDA QUINN']) {
        const res = await call<UserPage>('GET', `/api/admin/users?search=${encodeURIComponent(search)}`, {
          token: admin.token,
        });
        expect(
          res.body.data.map((u) => u.id),
          search,
        ).toContain(user.id);
      }
    });

    // SQLite's LIKE has no escape character unless the query names one (ESCAPE '\').
    it('finds an email containing an underscore, and treats % and _ literally', async () => {
      const local = `under_score_${Math.random().toString(36).slice(2, 8)}`;
      const user = await createUser({ email: `${local}@foundation.io` });
      const exact = await call<UserPage>('GET', `/api/admin/users?search=${local}`, { token: admin.token });
      expect(exact.body.data.map((u) => u.id)).toEqual([user.id]);
      const wildcard = await call<UserPage>('GET', `/api/admin/users?search=${encodeURIComponent('%')}`, {
        token: admin.token,
      });
      expect(wildcard.body.total).toBe(0);
    });

    it('treats % and _ in the search as plain characters, never as wildcards', async () => {
      const tag = `wild${Math.random().toString(36).slice(2, 8)}`;
      await createUser({ email: `${tag}x1@foundation.io` });
      for (const search of ['%', `${tag}_1`, `${tag}%1`, `${tag}__`]) {
        const res = await call<UserPage>('GET', `/api/admin/users?search=${encodeURIComponent(search)}`, {
          token: admin.token,
        });
        expect(res.status).toBe(200);
        expect(res.body.total, search).toBe(0);
      }
    });
  });

  describe('changes', () => {
    it('renames, promotes and demotes at once, and records user.update', async () => {
      const email = uniqueEmail('patchme');
      const user = await register(call, email);
      const renamed = await call<User>('PATCH', `/api/admin/users/${user.userId}`, {
        token: admin.token,
        body: { name: 'New Name' },
      });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ id: user.userId, name: 'New Name', role: 'user' });
      expect((await call('GET', '/api/me', { token: user.token })).body).toMatchObject({ name: 'New Name' });

      expect((await call('GET', '/api/admin/users', { token: user.token })).status).toBe(403);
      const promoted = await call<User>('PATCH', `/api/admin/users/${user.userId}`, {
        token: admin.token,
        body: { role: 'admin' },
      });
      expect(promoted.body.role).toBe('admin');
      // The same access token now carries admin rights: the role is read per request, not from the token.
      expect((await call('GET', '/api/admin/users', { token: user.token })).status).toBe(200);
      await call('PATCH', `/api/admin/users/${user.userId}`, { token: admin.token, body: { role: 'user' } });
      expect((await call('GET', '/api/admin/users', { token: user.token })).status).toBe(403);

      const rows = await auditRows(t, { action: 'user.update', targetId: user.userId });
      expect(rows.map((r) => r.detail)).toEqual(
        expect.arrayContaining([{ name: 'New Name' }, { role: 'admin' }, { role: 'user' }]),
      );
      expect(rows.every((r) => r.actorId === admin.userId && r.actorType === 'user' && r.ip === '127.0.0.1')).toBe(
        true,
      );
    });

    it('resets a password: the old one and old sessions stop working, the audit row hides the password', async () => {
      const email = uniqueEmail('reset');
      const user = await register(call, email);
      clock.advance(1000);
      const res = await call<User>('PATCH', `/api/admin/users/${user.userId}`, {
        token: admin.token,
        body: { password: 'reset password 9' },
      });
      expect(res.status).toBe(200);
      expect((await login(email, PASSWORD)).status).toBe(401);
      expect((await login(email, 'reset password 9')).status).toBe(200);
      expect((await call('GET', '/api/me', { token: user.token })).status).toBe(401);
      expect((await call('POST', '/api/auth/refresh', { headers: { cookie: user.cookie } })).status).toBe(401);
      const [row] = await auditRows(t, { action: 'user.update', targetId: user.userId });
      expect(row?.detail).toEqual({ passwordReset: true });
      expect(JSON.stringify(row)).not.toContain('reset password 9');
    });

    // minLength 1 alone lets "   " through, which trimming would store as an empty name.
    it('rejects a display name that is only spaces with 400', async () => {
      const res = await call<ErrorBody>('PATCH', `/api/admin/users/${plain.userId}`, {
        token: admin.token,
        body: { name: '   ' },
      });
      expect(res.status).toBe(400);
      expect((await t.services.users.get(plain.userId)).name.trim()).not.toBe('');
    });

    it('rejects an empty or unknown patch with 400, and a patch of an unknown user with 404', async () => {
      expect((await call('PATCH', `/api/admin/users/${plain.userId}`, { token: admin.token, body: {} })).status).toBe(
        400,
      );
      expect(
        (await call('PATCH', `/api/admin/users/${plain.userId}`, { token: admin.token, body: { email: 'x@y.io' } }))
          .status,
      ).toBe(400);
      expect(
        (await call('PATCH', '/api/admin/users/usr_nope', { token: admin.token, body: { name: 'x' } })).status,
      ).toBe(404);
    });
  });

  describe('disabling', () => {
    it('blocks a disabled user at once: token, refresh cookie, sign-in and API keys; enabling restores them', async () => {
      const email = uniqueEmail('disable');
      const user = await register(call, email);
      const key = await call<{ secret: string }>('POST', '/api/keys', { token: user.token, body: { name: 'mine' } });
      expect(key.status).toBe(201);
      expect(await t.services.keyVerifier.verify(key.body.secret)).toMatchObject({ ok: true }); // now cached

      const off = await call<User>('PATCH', `/api/admin/users/${user.userId}`, {
        token: admin.token,
        body: { status: 'disabled' },
      });
      expect(off.status).toBe(200);
      expect(off.body.status).toBe('disabled');

      const me = await call<ErrorBody>('GET', '/api/me', { token: user.token });
      expect(me.status).toBe(403);
      expect(me.body.error.code).toBe('account_disabled');
      expect((await call('POST', '/api/auth/refresh', { headers: { cookie: user.cookie } })).status).toBe(401);
      const signIn = await login(email, PASSWORD);
      expect(signIn.status).toBe(403);
      expect(signIn.body.error.code).toBe('account_disabled');
      expect(await t.services.keyVerifier.verify(key.body.secret)).toEqual({ ok: false, code: 'OWNER_DISABLED' });
      // A wrong password still says only "invalid credentials": no hint that the account exists.
      expect((await login(email, 'wrong password')).status).toBe(401);

      const on = await call<User>('PATCH', `/api/admin/users/${user.userId}`, {
        token: admin.token,
        body: { status: 'active' },
      });
      expect(on.body.status).toBe('active');
      expect(await t.services.keyVerifier.verify(key.body.secret)).toMatchObject({ ok: true });
      expect((await login(email, PASSWORD)).status).toBe(200);
      const rows = await auditRows(t, { action: 'user.update', targetId: user.userId });
      expect(rows.map((r) => r.detail)).toHaveLength(2);
      expect(rows.map((r) => r.detail)).toEqual(expect.arrayContaining([{ status: 'active' }, { status: 'disabled' }]));
    });

    it('does not let an admin disable their own account (409)', async () => {
      const res = await call<ErrorBody>('PATCH', `/api/admin/users/${admin.userId}`, {
        token: admin.token,
        body: { status: 'disabled' },
      });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('conflict');
      expect((await t.services.users.get(admin.userId)).status).toBe('active');
    });

    it('does not let a disabled user create keys through an admin', async () => {
      const user = await register(call, uniqueEmail('nokeys'));
      await call('PATCH', `/api/admin/users/${user.userId}`, { token: admin.token, body: { status: 'disabled' } });
      const res = await call<ErrorBody>('POST', '/api/keys', {
        token: admin.token,
        body: { name: 'x', userId: user.userId },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    });
  });

  describe('the last active admin', () => {
    let solo: TestApp;
    let c: Call;
    let only: SignedIn;
    beforeAll(async () => {
      solo = await startTestApp({ engine, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
      c = client(solo.url);
      only = await register(c, uniqueEmail('only-admin'));
    });
    afterAll(async () => solo?.close());

    it('cannot be demoted or disabled (409), not even with the master key', async () => {
      const demoteSelf = await c<ErrorBody>('PATCH', `/api/admin/users/${only.userId}`, {
        token: only.token,
        body: { role: 'user' },
      });
      expect(demoteSelf.status).toBe(409);
      expect(demoteSelf.body.error.code).toBe('conflict');
      for (const body of [{ role: 'user' }, { status: 'disabled' }]) {
        const res = await c('PATCH', `/api/admin/users/${only.userId}`, { token: MASTER_KEY, body });
        expect(res.status, JSON.stringify(body)).toBe(409);
      }
      expect(await solo.services.users.get(only.userId)).toMatchObject({ role: 'admin', status: 'active' });
    });

    it('can be demoted once another admin exists', async () => {
      const other = await register(c, uniqueEmail('second-admin'));
      await c('PATCH', `/api/admin/users/${other.userId}`, { token: only.token, body: { role: 'admin' } });
      const res = await c<User>('PATCH', `/api/admin/users/${only.userId}`, {
        token: other.token,
        body: { role: 'user' },
      });
      expect(res.status).toBe(200);
      expect(res.body.role).toBe('user');
      const back = await c('PATCH', `/api/admin/users/${other.userId}`, {
        token: MASTER_KEY,
        body: { status: 'disabled' },
      });
      expect(back.status).toBe(409);
    });

    it('keeps one admin when the last two demote each other at the same moment', async () => {
      const fresh = await startTestApp({ engine, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
      try {
        const f = client(fresh.url);
        const first = await register(f, uniqueEmail('race-a'));
        const second = await register(f, uniqueEmail('race-b'));
        for (let round = 0; round < 5; round++) {
          const promoted = await f('PATCH', `/api/admin/users/${second.userId}`, {
            token: MASTER_KEY,
            body: { role: 'admin' },
          });
          expect(promoted.status).toBe(200);
          await f('PATCH', `/api/admin/users/${first.userId}`, { token: MASTER_KEY, body: { role: 'admin' } });
          const both = await Promise.all(
            [first, second].map((u) =>
              f('PATCH', `/api/admin/users/${u.userId}`, { token: MASTER_KEY, body: { role: 'user' } }),
            ),
          );
          expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
          expect(await fresh.services.users.countActiveAdmins()).toBe(1);
        }
      } finally {
        await fresh.close();
      }
    });

    it('counts disabled admins as gone: a disabled admin does not make demotion possible', async () => {
      const fresh = await startTestApp({ engine, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
      try {
        const f = client(fresh.url);
        const a = await register(f, uniqueEmail('a'));
        const b = await register(f, uniqueEmail('b'));
        await f('PATCH', `/api/admin/users/${b.userId}`, { token: a.token, body: { role: 'admin' } });
        expect(
          (await f('PATCH', `/api/admin/users/${b.userId}`, { token: a.token, body: { status: 'disabled' } })).status,
        ).toBe(200);
        expect(
          (await f('PATCH', `/api/admin/users/${a.userId}`, { token: MASTER_KEY, body: { role: 'user' } })).status,
        ).toBe(409);
      } finally {
        await fresh.close();
      }
    });
  });

  describe('audit log', () => {
    let audit: TestApp;
    let c: Call;
    let boss: SignedIn;
    let member: SignedIn;
    /** Clock time after each step, to query by time. */
    const at: Record<string, number> = {};
    const auditClock = new ManualClock();

    beforeAll(async () => {
      audit = await startTestApp({ engine, clock: auditClock });
      c = client(audit.url);
      boss = await register(c, uniqueEmail('boss')); // user.register
      auditClock.advance(1000);
      at.keys = auditClock.now();
      const key = await c<{ key: { id: string } }>('POST', '/api/keys', { token: boss.token, body: { name: 'k' } }); // key.create
      auditClock.advance(1000);
      await c('POST', `/api/keys/${key.body.key.id}/rotate`, { token: boss.token }); // key.rotate
      auditClock.advance(1000);
      await c('DELETE', `/api/keys/${key.body.key.id}`, { token: boss.token }); // key.revoke
      auditClock.advance(1000);
      at.users = auditClock.now();
      const created = await c<User>('POST', '/api/admin/users', {
        token: boss.token,
        body: { email: uniqueEmail('member'), password: PASSWORD },
      }); // user.create
      auditClock.advance(1000);
      await c('PATCH', `/api/admin/users/${created.body.id}`, { token: boss.token, body: { name: 'Member' } }); // user.update
      auditClock.advance(1000);
      const signedIn = await c<{ accessToken: string }>('POST', '/api/auth/login', {
        body: { email: created.body.email, password: PASSWORD },
      }); // auth.login
      member = { token: signedIn.body.accessToken, userId: created.body.id, email: created.body.email, cookie: '' };
      auditClock.advance(1000);
      at.end = auditClock.now();
    });
    afterAll(async () => audit?.close());

    const list = (query: string) => c<AuditPage>('GET', `/api/admin/audit${query}`, { token: boss.token });

    it('lists everything newest first', async () => {
      const res = await list('');
      expect(res.status).toBe(200);
      expect(res.body.data.map((r) => r.action)).toEqual([
        'auth.login',
        'user.update',
        'user.create',
        'key.revoke',
        'key.rotate',
        'key.create',
        'user.register',
      ]);
      expect(res.body.nextCursor).toBeNull();
      expect(res.body.data[1]).toMatchObject({
        actorType: 'user',
        actorId: boss.userId,
        targetId: member.userId,
        ip: '127.0.0.1',
        detail: { name: 'Member' },
      });
    });

    it('names the actor and the target (a key by its name, a user by email)', async () => {
      const rows = (await list('')).body.data;
      const update = rows.find((r) => r.action === 'user.update');
      expect(update).toMatchObject({ actorName: boss.email, targetName: member.email });
      // The key was revoked, not deleted: it keeps its name.
      for (const action of ['key.create', 'key.rotate', 'key.revoke']) {
        expect(rows.find((r) => r.action === action)).toMatchObject({ targetType: 'api_key', targetName: 'k' });
      }
      expect(rows.find((r) => r.action === 'auth.login')?.actorName).toBe(member.email);
    });

    it('filters by exact action and by an action prefix ending in *', async () => {
      expect((await list('?action=key.create')).body.data.map((r) => r.action)).toEqual(['key.create']);
      expect((await list('?action=key.*')).body.data.map((r) => r.action)).toEqual([
        'key.revoke',
        'key.rotate',
        'key.create',
      ]);
      expect((await list('?action=key')).body.data).toEqual([]);
      expect((await list('?action=user.*')).body.data.map((r) => r.action)).toEqual([
        'user.update',
        'user.create',
        'user.register',
      ]);
    });

    it('filters by actor', async () => {
      const mine = await list(`?actorId=${member.userId}`);
      expect(mine.body.data.map((r) => r.action)).toEqual(['auth.login']);
      expect((await list(`?actorId=${boss.userId}`)).body.data).toHaveLength(6);
    });

    it('filters by time: from inclusive, to exclusive', async () => {
      const keys = await list(`?from=${at.keys}&to=${at.users}`);
      expect(keys.body.data.map((r) => r.action)).toEqual(['key.revoke', 'key.rotate', 'key.create']);
      expect((await list(`?from=${at.users}`)).body.data.map((r) => r.action)).toEqual([
        'auth.login',
        'user.update',
        'user.create',
      ]);
      expect((await list(`?from=${at.end}`)).body.data).toEqual([]);
    });

    it('pages with the before cursor and nextCursor without gaps or repeats', async () => {
      const all = (await list('')).body.data.map((r) => r.id);
      const seenIds: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { body: AuditPage } = await list(`?limit=3${cursor ? `&before=${cursor}` : ''}`);
        seenIds.push(...page.body.data.map((r) => r.id));
        cursor = page.body.nextCursor;
        if (cursor) expect(cursor).toBe(page.body.data.at(-1)?.id);
        pages += 1;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(seenIds).toEqual(all);
    });

    it('is admin-only', async () => {
      expect((await c('GET', '/api/admin/audit', { token: member.token })).status).toBe(403);
    });
  });

  it('never sends a password hash in any answer', () => {
    expect(seen.length).toBeGreaterThan(20);
    const everything = seen.join('\n');
    expect(everything).not.toContain('password_hash');
    expect(everything).not.toContain('$argon2');
  });
});
