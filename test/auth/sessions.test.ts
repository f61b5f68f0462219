import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, type ErrorBody, MASTER_KEY, uniqueEmail } from '../support/accounts.js';
import {
  type Call,
  client,
  ManualClock,
  refreshCookieOf,
  register,
  startTestApp,
  type TestApp,
} from '../support/app.js';
import { ENGINES } from '../support/databases.js';

const PASSWORD = 'correct horse 1';

interface SignIn {
  id: string;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  ip: string | null;
  userAgent: string | null;
  current: boolean;
}
interface Device {
  token: string;
  cookie: string;
}

describe.each(ENGINES)('sessions: list, sign out one, sign out everywhere (%s)', (engine) => {
  const clock = new ManualClock();
  let t: TestApp;
  let call: Call;

  beforeAll(async () => {
    t = await startTestApp({ engine, clock, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
    call = client(t.url);
    await register(call, uniqueEmail('first-admin'));
  });
  afterAll(async () => t?.close());

  /** Sign in from a "device" (its user agent); a second later, so tokens of different devices differ in time. */
  async function device(email: string, userAgent: string): Promise<Device> {
    clock.advance(1_000);
    const res = await call<{ accessToken: string }>('POST', '/api/auth/login', {
      body: { email, password: PASSWORD },
      headers: { 'user-agent': userAgent },
    });
    expect(res.status).toBe(200);
    return { token: res.body.accessToken, cookie: refreshCookieOf(res.headers) };
  }
  const list = (token: string) => call<{ data: SignIn[] } & ErrorBody>('GET', '/api/me/sessions', { token });
  const refresh = (cookie: string) =>
    call<{ accessToken: string } & ErrorBody>('POST', '/api/auth/refresh', { headers: { cookie } });

  it('lists each sign-in once, with where it came from, and marks this one as current', async () => {
    const email = uniqueEmail('lister');
    const account = await register(call, email);
    const laptop = await device(email, 'Laptop/1.0');
    const phone = await device(email, 'Phone/2.0');
    const res = await list(laptop.token);
    expect(res.status).toBe(200);
    expect(res.body.data).toHaveLength(3); // registering signed in too
    const ua = res.body.data.map((s) => s.userAgent);
    expect(ua).toEqual(expect.arrayContaining(['Laptop/1.0', 'Phone/2.0']));
    const current = res.body.data.filter((s) => s.current);
    expect(current).toHaveLength(1);
    expect(current[0]).toMatchObject({ userAgent: 'Laptop/1.0', ip: '127.0.0.1' });
    expect((await list(phone.token)).body.data.find((s) => s.current)?.userAgent).toBe('Phone/2.0');
    expect((await list(account.token)).body.data.find((s) => s.current)?.userAgent).not.toBe('Phone/2.0');

    // A refresh keeps the sign-in (same id and start), moves its last use, and stays "current".
    const before = res.body.data.find((s) => s.userAgent === 'Phone/2.0') as SignIn;
    clock.advance(60_000);
    const refreshed = await refresh(phone.cookie);
    expect(refreshed.status).toBe(200);
    const after = (await list(refreshed.body.accessToken)).body.data.find((s) => s.id === before.id);
    expect(after).toMatchObject({ createdAt: before.createdAt, lastUsedAt: clock.now(), current: true });
    expect((await list(laptop.token)).body.data).toHaveLength(3);
  });

  it('signs out one session: its refresh token stops working, the others stay; audited', async () => {
    const email = uniqueEmail('revoke-one');
    const owner = await register(call, email);
    const laptop = await device(email, 'Laptop/1.0');
    const phone = await device(email, 'Phone/2.0');
    const phoneSession = (await list(laptop.token)).body.data.find((s) => s.userAgent === 'Phone/2.0') as SignIn;
    const res = await call('DELETE', `/api/me/sessions/${phoneSession.id}`, { token: laptop.token });
    expect(res.status).toBe(204);
    expect((await refresh(phone.cookie)).status).toBe(401);
    expect((await refresh(laptop.cookie)).status).toBe(200);
    const left = (await list(laptop.token)).body.data;
    expect(left.map((s) => s.id)).not.toContain(phoneSession.id);
    expect(left).toHaveLength(2);
    // Gone already: 404.
    expect((await call('DELETE', `/api/me/sessions/${phoneSession.id}`, { token: laptop.token })).status).toBe(404);
    const rows = await auditRows(t, { action: 'auth.session_revoked', targetId: owner.userId });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.detail).toMatchObject({ sessionId: phoneSession.id, ip: '127.0.0.1' });
  });

  it('does not let another user see or end my sessions (404)', async () => {
    const email = uniqueEmail('mine');
    await register(call, email);
    const mine = await device(email, 'Mine/1.0');
    const intruder = await register(call, uniqueEmail('intruder'));
    const myId = (await list(mine.token)).body.data[0]?.id as string;
    expect((await list(intruder.token)).body.data.map((s) => s.id)).not.toContain(myId);
    const res = await call<ErrorBody>('DELETE', `/api/me/sessions/${myId}`, { token: intruder.token });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    expect((await refresh(mine.cookie)).status).toBe(200);
    expect((await call('GET', '/api/me/sessions')).status).toBe(401);
  });

  it('signs out everywhere: refresh tokens and access tokens of other devices die, this device gets a fresh session', async () => {
    const email = uniqueEmail('everywhere');
    const owner = await register(call, email);
    const laptop = await device(email, 'Laptop/1.0');
    const phone = await device(email, 'Phone/2.0');
    clock.advance(1_000);
    const res = await call<{ accessToken: string; user: { id: string } }>('POST', '/api/me/sessions/revoke-all', {
      token: laptop.token,
      headers: { 'user-agent': 'Laptop/1.0' },
    });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(owner.userId);
    const fresh = { token: res.body.accessToken, cookie: refreshCookieOf(res.headers) };
    expect(fresh.cookie).toMatch(/^aihub_refresh=/);

    for (const old of [laptop, phone, owner]) {
      expect((await refresh(old.cookie)).status).toBe(401);
      const denied = await call<ErrorBody>('GET', '/api/me', { token: old.token });
      expect(denied.status).toBe(401);
      expect(denied.body.error.code).toBe('token_expired');
    }
    const now = await list(fresh.token);
    expect(now.status).toBe(200);
    expect(now.body.data).toHaveLength(1);
    expect(now.body.data[0]).toMatchObject({ current: true, userAgent: 'Laptop/1.0' });
    expect((await refresh(fresh.cookie)).status).toBe(200);
    const rows = await auditRows(t, { action: 'auth.sessions_revoked_all', targetId: owner.userId });
    expect(rows[0]?.detail).toMatchObject({ keepCurrent: true, userAgent: 'Laptop/1.0' });
  });

  it('with keepCurrent false signs this device out too', async () => {
    const email = uniqueEmail('all-out');
    await register(call, email);
    const laptop = await device(email, 'Laptop/1.0');
    clock.advance(1_000);
    const res = await call('POST', '/api/me/sessions/revoke-all', {
      token: laptop.token,
      body: { keepCurrent: false },
    });
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie().join(';')).toContain('aihub_refresh=;');
    expect((await call('GET', '/api/me', { token: laptop.token })).status).toBe(401);
    expect((await refresh(laptop.cookie)).status).toBe(401);
  });

  it('audits sign-out with the session and where it came from', async () => {
    const email = uniqueEmail('logout');
    const owner = await register(call, email);
    const laptop = await device(email, 'Laptop/1.0');
    const res = await call('POST', '/api/auth/logout', {
      headers: { cookie: laptop.cookie, 'user-agent': 'Laptop/1.0' },
    });
    expect(res.status).toBe(204);
    const rows = await auditRows(t, { action: 'auth.logout', targetId: owner.userId });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actorId: owner.userId, ip: '127.0.0.1' });
    expect(rows[0]?.detail).toMatchObject({ userAgent: 'Laptop/1.0' });
    // The login row has the method and user agent.
    const login = await auditRows(t, { action: 'auth.login', targetId: owner.userId });
    expect(login[0]?.detail).toMatchObject({ method: 'password', userAgent: 'Laptop/1.0' });
  });

  it('lets platform admins list a user’s sessions and sign them out everywhere; others may not', async () => {
    const email = uniqueEmail('managed');
    const user = await register(call, email);
    const laptop = await device(email, 'Laptop/1.0');
    const listed = await call<{ data: SignIn[] }>('GET', `/api/admin/users/${user.userId}/sessions`, {
      token: MASTER_KEY,
    });
    expect(listed.status).toBe(200);
    expect(listed.body.data).toHaveLength(2);
    expect(listed.body.data.every((s) => !s.current)).toBe(true);

    const other = await register(call, uniqueEmail('not-admin'));
    const denied = await call<ErrorBody>('GET', `/api/admin/users/${user.userId}/sessions`, { token: other.token });
    expect(denied.status).toBe(403);
    expect(
      (await call('POST', `/api/admin/users/${user.userId}/sessions/revoke-all`, { token: other.token })).status,
    ).toBe(403);
    expect((await call('GET', '/api/admin/users/usr_missing/sessions', { token: MASTER_KEY })).status).toBe(404);

    clock.advance(1_000);
    const res = await call('POST', `/api/admin/users/${user.userId}/sessions/revoke-all`, { token: MASTER_KEY });
    expect(res.status).toBe(204);
    expect((await call('GET', '/api/me', { token: laptop.token })).status).toBe(401);
    expect((await refresh(laptop.cookie)).status).toBe(401);
    const rows = await auditRows(t, { action: 'auth.sessions_revoked_all', targetId: user.userId });
    expect(rows[0]).toMatchObject({ actorType: 'master_key' });
  });
});
