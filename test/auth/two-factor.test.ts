import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, type ErrorBody, MASTER_KEY, recordingClient, uniqueEmail } from '../support/accounts.js';
import {
  type Call,
  ManualClock,
  refreshCookieOf,
  register,
  type SignedIn,
  startTestApp,
  type TestApp,
} from '../support/app.js';
import { ENGINES } from '../support/databases.js';

const PASSWORD = 'correct horse 1';
const STEP_MS = 30_000;

interface Setup {
  secret: string;
  otpauthUrl: string;
  qrCode: string;
}
interface Status {
  enabled: boolean;
  enabledAt: number | null;
  recoveryCodesLeft: number;
  required: boolean;
  requiredBy: Array<{ id: string; name: string }>;
}
interface LoginAnswer {
  twoFactorRequired?: true;
  challenge?: string;
  accessToken?: string;
  user?: { id: string };
}

describe.each(ENGINES)('two-factor authentication (%s)', (engine) => {
  const clock = new ManualClock();
  const seen: string[] = [];
  let t: TestApp;
  let call: Call;
  let admin: SignedIn;

  beforeAll(async () => {
    t = await startTestApp({
      engine,
      clock,
      env: { AIHUB_MASTER_KEY: MASTER_KEY },
      // A low per-account limit for the throttle test; a high per-IP one (every test comes from 127.0.0.1).
      throttle: { perAccount: 3, perIp: 10_000 },
    });
    call = recordingClient(t.url, seen);
    admin = await register(call, uniqueEmail('admin'));
  });
  afterAll(async () => t?.close());

  const code = (secret: string, atMs = clock.now()) => generate({ secret, epoch: Math.floor(atMs / 1000) });
  const login = (email: string, password = PASSWORD) =>
    call<LoginAnswer & ErrorBody>('POST', '/api/auth/login', { body: { email, password } });
  const second = (body: Record<string, unknown>) =>
    call<LoginAnswer & ErrorBody>('POST', '/api/auth/login/2fa', { body });
  const status = (token: string) => call<Status>('GET', '/api/me/2fa', { token });
  /** A fresh token for a user without 2FA, or after the second step. */
  const tokenOf = async (email: string) => (await login(email)).body.accessToken as string;

  /** Register and enrol a user; the clock then moves one step so the next code is a new one. */
  async function enrolled(tag: string): Promise<SignedIn & { secret: string; recoveryCodes: string[] }> {
    const user = await register(call, uniqueEmail(tag));
    const setup = await call<Setup>('POST', '/api/me/2fa/setup', { token: user.token });
    expect(setup.status).toBe(200);
    const enable = await call<{ recoveryCodes: string[] }>('POST', '/api/me/2fa/enable', {
      token: user.token,
      body: { code: await code(setup.body.secret) },
    });
    expect(enable.status).toBe(200);
    clock.advance(STEP_MS);
    return { ...user, secret: setup.body.secret, recoveryCodes: enable.body.recoveryCodes };
  }

  /** Sign in through both steps with the authenticator. */
  async function signIn(user: { email: string; secret: string }): Promise<string> {
    const first = await login(user.email);
    const done = await second({ challenge: first.body.challenge, code: await code(user.secret) });
    expect(done.status).toBe(200);
    clock.advance(STEP_MS);
    return done.body.accessToken as string;
  }

  it('enrols: setup gives a secret, an otpauth URI and a QR code; nothing is on until a right code confirms it', async () => {
    const user = await register(call, uniqueEmail('enrol'));
    expect((await status(user.token)).body).toMatchObject({ enabled: false, enabledAt: null, recoveryCodesLeft: 0 });

    const setup = await call<Setup>('POST', '/api/me/2fa/setup', { token: user.token });
    expect(setup.status).toBe(200);
    expect(setup.body.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(setup.body.otpauthUrl).toContain(`secret=${setup.body.secret}`);
    expect(setup.body.otpauthUrl).toContain(encodeURIComponent(user.email));
    expect(setup.body.qrCode.startsWith('data:image/png;base64,')).toBe(true);
    // Pending: still off, and the password alone still signs in.
    expect((await status(user.token)).body.enabled).toBe(false);
    expect((await login(user.email)).body.accessToken).toBeTruthy();

    // The secret is sealed at rest.
    const row = await t.database.handle.db
      .selectFrom('user_two_factor')
      .selectAll()
      .where('user_id', '=', user.userId)
      .executeTakeFirstOrThrow();
    expect(row.secret.startsWith('v1:')).toBe(true);
    expect(row.secret).not.toContain(setup.body.secret);

    const wrong = await call<ErrorBody>('POST', '/api/me/2fa/enable', { token: user.token, body: { code: '000000' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatchObject({ code: 'invalid_two_factor_code' });
    expect((await status(user.token)).body.enabled).toBe(false);

    const enable = await call<{ recoveryCodes: string[] }>('POST', '/api/me/2fa/enable', {
      token: user.token,
      body: { code: await code(setup.body.secret) },
    });
    expect(enable.status).toBe(200);
    expect(enable.body.recoveryCodes).toHaveLength(10);
    expect((await status(user.token)).body).toMatchObject({
      enabled: true,
      enabledAt: clock.now(),
      recoveryCodesLeft: 10,
    });

    // A second setup would replace the device: refused while it is on.
    const again = await call<ErrorBody>('POST', '/api/me/2fa/setup', { token: user.token });
    expect(again.status).toBe(409);
    const audit = await auditRows(t, { action: 'auth.2fa_enabled', targetId: user.userId });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorId: user.userId, ip: '127.0.0.1' });
    const [raw] = await t.database.handle.db
      .selectFrom('audit_logs')
      .select('org_id')
      .where('id', '=', audit[0]?.id ?? '')
      .execute();
    expect(raw?.org_id).toBe('org_default');
  });

  it('signs in in two steps: no session after the password, the session after a right code; wrong and replayed codes fail', async () => {
    const user = await enrolled('two-step');
    clock.advance(-STEP_MS); // back to the step of the enrolment code
    const first = await login(user.email);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ twoFactorRequired: true });
    expect(first.body.challenge).toMatch(/^tfc_/);
    expect(first.body.accessToken).toBeUndefined();
    expect(first.headers.getSetCookie()).toEqual([]);

    const wrong = await second({ challenge: first.body.challenge, code: '123456' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_two_factor_code');
    // The enrolment's code, used once already, is refused (replay).
    const replay = await second({ challenge: first.body.challenge, code: await code(user.secret) });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('invalid_two_factor_code');

    clock.advance(STEP_MS);
    const right = await second({ challenge: first.body.challenge, code: await code(user.secret) });
    expect(right.status).toBe(200);
    expect(right.body.user?.id).toBe(user.userId);
    expect(refreshCookieOf(right.headers)).toMatch(/^aihub_refresh=rt_/);
    const me = await call('GET', '/api/me', { token: right.body.accessToken });
    expect(me.status).toBe(200);

    // The challenge is single use, and the same code is not accepted twice even with a new challenge.
    const reused = await second({ challenge: first.body.challenge, code: await code(user.secret) });
    expect(reused.status).toBe(401);
    expect(reused.body.error.code).toBe('unauthorized');
    const fresh = await login(user.email);
    expect((await second({ challenge: fresh.body.challenge, code: await code(user.secret) })).status).toBe(401);

    expect(await auditRows(t, { action: 'auth.2fa_challenge', targetId: user.userId })).toHaveLength(2);
    const failed = await auditRows(t, { action: 'auth.2fa_failed', targetId: user.userId });
    expect(failed.length).toBe(3);
    expect(failed[0]?.detail).toMatchObject({ factor: 'totp', ip: '127.0.0.1' });
    const logins = await auditRows(t, { action: 'auth.login', targetId: user.userId });
    expect(logins[0]?.detail).toMatchObject({ method: 'totp' });
    expect(logins[0]?.detail?.userAgent).toBeTruthy();
  });

  it('refuses the second step with bad input: neither or both factors, an unknown challenge', async () => {
    const user = await enrolled('bad-input');
    const first = await login(user.email);
    expect((await second({ challenge: first.body.challenge })).status).toBe(400);
    const both = await second({ challenge: first.body.challenge, code: '123456', recoveryCode: 'aaaaa-bbbbb' });
    expect(both.status).toBe(400);
    expect((await second({ challenge: 'tfc_nope', code: await code(user.secret) })).status).toBe(401);
    expect((await second({ challenge: first.body.challenge, code: 123456 })).status).toBe(400);
  });

  it('takes a recovery code once instead of the app code', async () => {
    const user = await enrolled('recovery');
    const recoveryCode = user.recoveryCodes[0] as string;
    const first = await login(user.email);
    const done = await second({ challenge: first.body.challenge, recoveryCode: recoveryCode.toUpperCase() });
    expect(done.status).toBe(200);
    expect((await status(done.body.accessToken as string)).body.recoveryCodesLeft).toBe(9);

    const again = await login(user.email);
    const reused = await second({ challenge: again.body.challenge, recoveryCode });
    expect(reused.status).toBe(401);
    expect(reused.body.error.code).toBe('invalid_two_factor_code');
    const used = await auditRows(t, { action: 'auth.recovery_code_used', targetId: user.userId });
    expect(used).toHaveLength(1);
    expect(used[0]?.detail).toMatchObject({ recoveryCodesLeft: 9 });
    expect((await auditRows(t, { action: 'auth.login', targetId: user.userId }))[0]?.detail).toMatchObject({
      method: 'recovery_code',
    });
  });

  it('regenerates recovery codes with a current code: the old ones stop working', async () => {
    const user = await enrolled('regen');
    const token = await signIn(user);
    const wrong = await call<ErrorBody>('POST', '/api/me/2fa/recovery-codes', { token, body: { code: '000000' } });
    expect(wrong.status).toBe(401);
    const fresh = await call<{ recoveryCodes: string[] }>('POST', '/api/me/2fa/recovery-codes', {
      token,
      body: { code: await code(user.secret) },
    });
    expect(fresh.status).toBe(200);
    expect(fresh.body.recoveryCodes).toHaveLength(10);
    expect(fresh.body.recoveryCodes).not.toContain(user.recoveryCodes[0]);
    const first = await login(user.email);
    expect((await second({ challenge: first.body.challenge, recoveryCode: user.recoveryCodes[0] })).status).toBe(401);
    expect((await second({ challenge: first.body.challenge, recoveryCode: fresh.body.recoveryCodes[0] })).status).toBe(
      200,
    );
  });

  it('lets a challenge expire after five minutes', async () => {
    const user = await enrolled('expiry');
    const first = await login(user.email);
    clock.advance(5 * 60_000 + 1);
    const late = await second({ challenge: first.body.challenge, code: await code(user.secret) });
    expect(late.status).toBe(401);
    expect(late.body.error.message).toContain('expired');
  });

  it('throttles wrong codes like wrong passwords, per account', async () => {
    const user = await enrolled('throttle');
    const first = await login(user.email);
    for (let i = 0; i < 3; i += 1) {
      expect((await second({ challenge: first.body.challenge, code: '000000' })).status).toBe(401);
    }
    const blocked = await second({ challenge: first.body.challenge, code: await code(user.secret) });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('too_many_attempts');
    expect(blocked.headers.get('retry-after')).toBeTruthy();
    // A right password does not reset the count: it is still blocked.
    expect((await login(user.email)).status).toBe(429);
  });

  it('turns off with the password (and the code when given); wrong ones are refused', async () => {
    const user = await enrolled('disable');
    const token = await signIn(user);
    const badPassword = await call<ErrorBody>('POST', '/api/me/2fa/disable', {
      token,
      body: { password: 'nope nope' },
    });
    expect(badPassword.status).toBe(401);
    const badCode = await call<ErrorBody>('POST', '/api/me/2fa/disable', {
      token,
      body: { password: PASSWORD, code: '000000' },
    });
    expect(badCode.status).toBe(401);
    expect(badCode.body.error.code).toBe('invalid_two_factor_code');
    expect((await status(token)).body.enabled).toBe(true);
    const off = await call('POST', '/api/me/2fa/disable', {
      token,
      body: { password: PASSWORD, code: await code(user.secret) },
    });
    expect(off.status).toBe(204);
    expect((await status(token)).body).toMatchObject({ enabled: false, recoveryCodesLeft: 0 });
    expect((await login(user.email)).body.accessToken).toBeTruthy();
    expect(await auditRows(t, { action: 'auth.2fa_disabled', targetId: user.userId })).toHaveLength(1);
  });

  it('answers the master key and anonymous callers on /api/me/2fa clearly', async () => {
    expect((await call<ErrorBody>('GET', '/api/me/2fa')).status).toBe(401);
    const master = await call<ErrorBody>('POST', '/api/me/2fa/setup', { token: MASTER_KEY });
    expect(master.status).toBe(400);
  });

  it('blocks members of an organization that requires 2FA until they enrol; the master key is exempt', async () => {
    const dev = await register(call, uniqueEmail('required'));
    const adminToken = await tokenOf(admin.email);
    // An admin without 2FA cannot require it (it would lock them out); the master key can.
    const refused = await call('PATCH', '/api/org', { token: adminToken, body: { require2fa: true } });
    expect(refused.status).toBe(409);
    const on = await call('PATCH', '/api/org', { token: MASTER_KEY, body: { require2fa: true } });
    expect(on.status).toBe(200);
    try {
      const keys = await call<ErrorBody>('GET', '/api/keys', { token: dev.token });
      expect(keys.status).toBe(403);
      expect(keys.body.error.code).toBe('two_factor_required');
      expect(keys.body.error.message).toContain('two-factor');
      // Their own account pages and signing in still work.
      expect((await call('GET', '/api/me', { token: dev.token })).status).toBe(200);
      expect((await status(dev.token)).body).toMatchObject({
        enabled: false,
        required: true,
        requiredBy: [{ id: 'org_default' }],
      });
      // Platform admins are not exempt from their own organization's rule; the master key is.
      expect((await call<ErrorBody>('GET', '/api/keys', { token: adminToken })).body.error?.code).toBe(
        'two_factor_required',
      );
      expect((await call('GET', '/api/org', { token: MASTER_KEY })).status).toBe(200);

      const setup = await call<Setup>('POST', '/api/me/2fa/setup', { token: dev.token });
      await call('POST', '/api/me/2fa/enable', { token: dev.token, body: { code: await code(setup.body.secret) } });
      clock.advance(STEP_MS);
      expect((await call('GET', '/api/keys', { token: dev.token })).status).toBe(200);
    } finally {
      const off = await call('PATCH', '/api/org', { token: MASTER_KEY, body: { require2fa: false } });
      expect(off.status).toBe(200);
    }
    expect((await call('GET', '/api/keys', { token: adminToken })).status).toBe(200);
  });

  describe('an administrator’s reset', () => {
    it('lets a platform admin reset a user’s 2FA: the password alone signs in again; audited', async () => {
      const user = await enrolled('reset');
      const adminToken = await tokenOf(admin.email);
      const res = await call('DELETE', `/api/admin/users/${user.userId}/2fa`, { token: adminToken });
      expect(res.status).toBe(204);
      expect((await login(user.email)).body.accessToken).toBeTruthy();
      const rows = await auditRows(t, { action: 'auth.2fa_reset', targetId: user.userId });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ actorId: admin.userId });
      // Nothing left to reset.
      expect((await call('DELETE', `/api/admin/users/${user.userId}/2fa`, { token: adminToken })).status).toBe(409);
    });

    it('refuses members without members.manage, and organization admins outside their organization or above them', async () => {
      const victim = await enrolled('victim');
      const dev = await register(call, uniqueEmail('dev'));
      const denied = await call<ErrorBody>('DELETE', `/api/admin/users/${victim.userId}/2fa`, { token: dev.token });
      expect(denied.status).toBe(403);
      expect(denied.body.error.code).toBe('forbidden');

      // An admin of another organization: the victim is not theirs to see (404).
      const adminToken = await tokenOf(admin.email);
      const other = await call<{ id: string }>('POST', '/api/organizations', {
        token: adminToken,
        body: { name: `Other ${Math.random().toString(36).slice(2, 6)}` },
      });
      expect(other.status).toBe(201);
      const outsider = await register(call, uniqueEmail('outsider'));
      const added = await call('POST', '/api/org/members', {
        token: adminToken,
        headers: { 'x-aihub-organization': other.body.id },
        body: { email: outsider.email, role: 'admin' },
      });
      expect(added.status).toBe(201);
      const far = await call<ErrorBody>('DELETE', `/api/admin/users/${victim.userId}/2fa`, {
        token: outsider.token,
        headers: { 'x-aihub-organization': other.body.id },
      });
      expect(far.status).toBe(404);

      // An admin of the victim's organization may; not for the owner (a platform admin) above them.
      const orgAdmin = await register(call, uniqueEmail('org-admin'));
      const promoted = await call('PATCH', `/api/org/members/${orgAdmin.userId}`, {
        token: adminToken,
        body: { role: 'admin' },
      });
      expect(promoted.status).toBe(200);
      const above = await call<ErrorBody>('DELETE', `/api/admin/users/${admin.userId}/2fa`, { token: orgAdmin.token });
      expect(above.status).toBe(403);
      const ok = await call('DELETE', `/api/admin/users/${victim.userId}/2fa`, { token: orgAdmin.token });
      expect(ok.status).toBe(204);
      expect((await auditRows(t, { action: 'auth.2fa_reset', targetId: victim.userId }))[0]).toMatchObject({
        actorId: orgAdmin.userId,
      });
    });
  });

  it('never answers a stored secret hash or a recovery code hash', async () => {
    const hashes = await t.database.handle.db.selectFrom('recovery_codes').select('code_hash').execute();
    expect(hashes.length).toBeGreaterThan(0);
    const sealed = await t.database.handle.db.selectFrom('user_two_factor').select('secret').execute();
    const all = seen.join('\n');
    for (const { code_hash } of hashes) expect(all).not.toContain(code_hash);
    for (const { secret } of sealed) expect(all).not.toContain(secret);
  });
});
