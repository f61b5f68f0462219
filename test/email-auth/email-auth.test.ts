import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditRows, type ErrorBody, MASTER_KEY, uniqueEmail } from '../support/accounts.js';
import {
  type Call,
  client,
  ManualClock,
  refreshCookieOf,
  register,
  type SignedIn,
  startTestApp,
  type TestApp,
} from '../support/app.js';
import { ENGINES } from '../support/databases.js';
import { startSmtpServer, type TestSmtpServer } from '../support/mail.js';

const PUBLIC_URL = 'https://hub.example.test';

interface Me {
  id: string;
  email: string;
  emailVerifiedAt: number | null;
}

function tokenOf(link: string): string {
  return new URL(link).searchParams.get('token') ?? '';
}

describe.each(ENGINES)('email verification and password reset (%s)', (engine) => {
  let t: TestApp;
  let smtp: TestSmtpServer;
  let call: Call;
  const clock = new ManualClock();
  const setVerificationRequired = async (on: boolean) => {
    const res = await call('PATCH', '/api/admin/settings', {
      token: MASTER_KEY,
      body: { emailVerificationRequired: on },
    });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await startTestApp({
      engine,
      clock,
      env: { AIHUB_MASTER_KEY: MASTER_KEY, AIHUB_SMTP_URL: smtp.url, AIHUB_PUBLIC_URL: PUBLIC_URL },
    });
    call = client(t.url);
    // The first account becomes the platform admin; the accounts of the tests are ordinary users.
    await register(call, uniqueEmail('first-admin'));
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  describe('verification', () => {
    it('mails a verification link on sign-up; the link verifies the address once', async () => {
      const user = await register(call, uniqueEmail('verify'));
      const mail = await smtp.next(user.email);
      expect(mail.subject).toMatch(/confirm your email/i);
      expect(mail.parsed.from?.text).toContain('no-reply@localhost');
      expect(mail.link.startsWith(`${PUBLIC_URL}/verify-email?token=`)).toBe(true);
      expect(mail.html).toContain(mail.link.replace(/&/g, '&amp;'));
      // The token is stored only as a hash.
      const rows = await t.database.handle.db.selectFrom('email_tokens').selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain(tokenOf(mail.link));

      const before = await call<Me>('GET', '/api/me', { token: user.token });
      expect(before.body.emailVerifiedAt).toBeNull();

      const verified = await call<{ email: string; emailVerifiedAt: number }>('POST', '/api/auth/email/verify', {
        body: { token: tokenOf(mail.link) },
      });
      expect(verified.status).toBe(200);
      expect(verified.body).toEqual({ email: user.email, emailVerifiedAt: clock.now() });
      const after = await call<Me>('GET', '/api/me', { token: user.token });
      expect(after.body.emailVerifiedAt).toBe(clock.now());
      expect(await auditRows(t, { action: 'user.email_verified', targetId: user.userId })).toHaveLength(1);

      const again = await call<ErrorBody>('POST', '/api/auth/email/verify', { body: { token: tokenOf(mail.link) } });
      expect(again.status).toBe(400);
      expect(again.body.error.code).toBe('invalid_token');
      expect(again.body.error.message).toMatch(/already used/);
    });

    it('refuses unknown and expired verification tokens with invalid_token', async () => {
      const bad = await call<ErrorBody>('POST', '/api/auth/email/verify', { body: { token: 'not-a-token' } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('invalid_token');

      const user = await register(call, uniqueEmail('verify-late'));
      const mail = await smtp.next(user.email);
      clock.advance(24 * 3_600_000 + 1);
      const late = await call<ErrorBody>('POST', '/api/auth/email/verify', { body: { token: tokenOf(mail.link) } });
      expect(late.status).toBe(400);
      expect(late.body.error).toMatchObject({ code: 'invalid_token', message: expect.stringMatching(/expired/) });
      expect((await call<Me>('GET', '/api/me', { token: (await login(user)).token })).body.emailVerifiedAt).toBeNull();
    });

    it('with emailVerificationRequired, holds an unverified user to /api/me and /api/auth until they verify', async () => {
      await setVerificationRequired(true);
      try {
        const publicSettings = await call<{ emailVerificationRequired: boolean }>('GET', '/api/settings/public');
        expect(publicSettings.body.emailVerificationRequired).toBe(true);
        const user = await register(call, uniqueEmail('held'));
        const first = await smtp.next(user.email);

        expect((await call('GET', '/api/me', { token: user.token })).status).toBe(200);
        const keys = await call<ErrorBody>('GET', '/api/keys', { token: user.token });
        expect(keys.status).toBe(403);
        expect(keys.body.error.code).toBe('email_unverified');
        expect(keys.body.error.message).toContain(user.email);
        const create = await call<ErrorBody>('POST', '/api/keys', { token: user.token, body: { name: 'k' } });
        expect(create.status).toBe(403);
        expect(create.body.error.code).toBe('email_unverified');

        // A new link; the first one still works until used (each link is single-use on its own).
        const resend = await call('POST', '/api/me/email/verification', { token: user.token });
        expect(resend.status).toBe(202);
        const second = await smtp.next(user.email);
        expect(tokenOf(second.link)).not.toBe(tokenOf(first.link));
        expect((await call('POST', '/api/auth/email/verify', { body: { token: tokenOf(second.link) } })).status).toBe(
          200,
        );
        // Verified: the other link is retired.
        expect(
          (await call<ErrorBody>('POST', '/api/auth/email/verify', { body: { token: tokenOf(first.link) } })).body.error
            .code,
        ).toBe('invalid_token');
        expect((await call('GET', '/api/keys', { token: user.token })).status).toBe(200);

        // Already verified: nothing to resend.
        const twice = await call<ErrorBody>('POST', '/api/me/email/verification', { token: user.token });
        expect(twice.status).toBe(409);

        // Accounts an admin creates count as verified; the platform admin is never held.
        const made = await call<{ id: string; email: string; emailVerifiedAt: number | null }>(
          'POST',
          '/api/admin/users',
          { token: MASTER_KEY, body: { email: uniqueEmail('made'), password: 'correct horse 1' } },
        );
        expect(made.status).toBe(201);
        expect(made.body.emailVerifiedAt).toBe(clock.now());
        const madeSession = await login({ email: made.body.email });
        expect((await call('GET', '/api/keys', { token: madeSession.token })).status).toBe(200);
      } finally {
        await setVerificationRequired(false);
      }
    });

    it('lets unverified users work while the setting is off', async () => {
      const user = await register(call, uniqueEmail('relaxed'));
      await smtp.next(user.email);
      expect((await call('GET', '/api/keys', { token: user.token })).status).toBe(200);
    });

    it('refuses a resend without a session and to the master key', async () => {
      expect((await call('POST', '/api/me/email/verification')).status).toBe(401);
      expect((await call('POST', '/api/me/email/verification', { token: MASTER_KEY })).status).toBe(400);
    });
  });

  describe('password reset', () => {
    it('mails a single-use link that sets the password and ends every session', async () => {
      const user = await register(call, uniqueEmail('reset'));
      await smtp.next(user.email);
      clock.advance(2000);
      const forgot = await call<{ message: string }>('POST', '/api/auth/password/forgot', {
        body: { email: user.email.toUpperCase() },
      });
      expect(forgot.status).toBe(202);
      const mail = await smtp.next(user.email);
      expect(mail.subject).toMatch(/reset your ai hub password/i);
      expect(mail.link.startsWith(`${PUBLIC_URL}/reset-password?token=`)).toBe(true);
      const token = tokenOf(mail.link);

      // A bad password is refused before the link is used up.
      const short = await call<ErrorBody>('POST', '/api/auth/password/reset', { body: { token, password: 'short' } });
      expect(short.status).toBe(400);
      expect(short.body.error.code).toBe('validation_failed');

      clock.advance(2000);
      const reset = await call('POST', '/api/auth/password/reset', { body: { token, password: 'a brand new secret' } });
      expect(reset.status).toBe(204);

      // Every session ended: the access token and the refresh cookie of before.
      expect((await call<ErrorBody>('GET', '/api/me', { token: user.token })).status).toBe(401);
      const refreshed = await call('POST', '/api/auth/refresh', { headers: { cookie: user.cookie } });
      expect(refreshed.status).toBe(401);
      const oldPassword = await call('POST', '/api/auth/login', {
        body: { email: user.email, password: 'correct horse 1' },
      });
      expect(oldPassword.status).toBe(401);
      const newPassword = await call<Me & { user: Me }>('POST', '/api/auth/login', {
        body: { email: user.email, password: 'a brand new secret' },
      });
      expect(newPassword.status).toBe(200);
      // The link reached the inbox: the address counts as verified.
      expect(newPassword.body.user.emailVerifiedAt).not.toBeNull();

      const reused = await call<ErrorBody>('POST', '/api/auth/password/reset', {
        body: { token, password: 'yet another secret' },
      });
      expect(reused.status).toBe(400);
      expect(reused.body.error.code).toBe('invalid_token');
      expect(await auditRows(t, { action: 'user.password_reset', targetId: user.userId })).toHaveLength(1);
    });

    it('expires a reset link after 30 minutes', async () => {
      const user = await register(call, uniqueEmail('reset-late'));
      await smtp.next(user.email);
      await call('POST', '/api/auth/password/forgot', { body: { email: user.email } });
      const token = tokenOf((await smtp.next(user.email)).link);
      clock.advance(30 * 60_000 + 1);
      const late = await call<ErrorBody>('POST', '/api/auth/password/reset', {
        body: { token, password: 'a brand new secret' },
      });
      expect(late.status).toBe(400);
      expect(late.body.error).toMatchObject({ code: 'invalid_token', message: expect.stringMatching(/expired/) });
      expect((await login(user)).token).toBeTruthy();
    });

    it('answers an unknown address exactly like a known one, and sends nothing', async () => {
      const known = await register(call, uniqueEmail('known'));
      await smtp.next(known.email);
      const unknownEmail = uniqueEmail('nobody');
      const a = await call('POST', '/api/auth/password/forgot', { body: { email: known.email } });
      const b = await call('POST', '/api/auth/password/forgot', { body: { email: unknownEmail } });
      expect(b.status).toBe(a.status);
      expect(b.body).toEqual(a.body);
      await smtp.next(known.email);
      await t.services.mailer.idle();
      expect(smtp.received.some((m) => m.to === unknownEmail)).toBe(false);
    });

    it('throttles reset requests per address, known or not', async () => {
      for (const email of [uniqueEmail('spam-unknown'), (await register(call, uniqueEmail('spam'))).email]) {
        for (let i = 0; i < 5; i += 1)
          expect((await call('POST', '/api/auth/password/forgot', { body: { email } })).status).toBe(202);
        const blocked = await call<ErrorBody>('POST', '/api/auth/password/forgot', { body: { email } });
        expect(blocked.status).toBe(429);
        expect(blocked.body.error.code).toBe('too_many_attempts');
        expect(blocked.headers.get('retry-after')).toMatch(/^\d+$/);
      }
    });

    it('refuses malformed bodies', async () => {
      expect((await call('POST', '/api/auth/password/forgot', { body: { email: 5 } })).status).toBe(400);
      expect((await call('POST', '/api/auth/password/forgot', { body: { email: 'not-an-email' } })).status).toBe(400);
      expect((await call('POST', '/api/auth/password/reset', { body: { token: 'x' } })).status).toBe(400);
      const unknown = await call<ErrorBody>('POST', '/api/auth/password/reset', {
        body: { token: 'no-such-token', password: 'long enough secret' },
      });
      expect(unknown.body.error.code).toBe('invalid_token');
    });
  });

  async function login(user: { email: string }, password = 'correct horse 1'): Promise<SignedIn> {
    const res = await call<{ accessToken: string; user: { id: string } }>('POST', '/api/auth/login', {
      body: { email: user.email, password },
    });
    expect(res.status).toBe(200);
    return {
      token: res.body.accessToken,
      userId: res.body.user.id,
      email: user.email,
      cookie: refreshCookieOf(res.headers),
    };
  }
});
