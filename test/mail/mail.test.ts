import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailLog } from '../../src/modules/mail/mailer.js';
import { type ErrorBody, MASTER_KEY, uniqueEmail } from '../support/accounts.js';
import { type Call, client, register, type SignedIn, startTestApp, type TestApp } from '../support/app.js';
import { ENGINES } from '../support/databases.js';
import { freePort, spawnServer, waitHealthy } from '../support/processes.js';

interface OutboxEntry {
  kind: string;
  to: string;
  subject: string;
  link: string | null;
  status: string;
  error: string | null;
}
interface Outbox {
  smtpConfigured: boolean;
  data: OutboxEntry[];
}

/** A log that keeps what the mailer reports. */
function capturingLog(): MailLog & {
  lines: Array<{ level: string; detail: Record<string, unknown>; message: string }>;
} {
  const lines: Array<{ level: string; detail: Record<string, unknown>; message: string }> = [];
  const at = (level: string) => (detail: Record<string, unknown>, message: string) => {
    lines.push({ level, detail, message });
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

describe.each(ENGINES)('mail without SMTP (%s)', (engine) => {
  let t: TestApp;
  let call: Call;
  let admin: SignedIn;
  const log = capturingLog();

  beforeAll(async () => {
    t = await startTestApp({ engine, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
    t.services.mailer.logTo(log);
    call = client(t.url);
    admin = await register(call, uniqueEmail('admin'));
  });
  afterAll(async () => t?.close());

  it('writes every link to the log (warn, one line with the recipient and the link) and keeps it in the outbox', async () => {
    const user = await register(call, uniqueEmail('nosmtp'));
    const line = log.lines.find((l) => l.detail.to === user.email);
    expect(line?.level).toBe('warn');
    // Without AIHUB_PUBLIC_URL, links use the origin the request came to.
    expect(line?.message).toMatch(new RegExp(`${user.email}: ${t.url}/verify-email\\?token=\\S+$`));
    const link = String(line?.detail.link);

    const outbox = await call<Outbox>('GET', '/api/admin/mail/outbox', { token: admin.token });
    expect(outbox.status).toBe(200);
    expect(outbox.body.smtpConfigured).toBe(false);
    expect(outbox.body.data[0]).toMatchObject({ kind: 'verify_email', to: user.email, link, status: 'logged' });
    // The logged link works.
    const token = new URL(link).searchParams.get('token');
    expect((await call('POST', '/api/auth/email/verify', { body: { token } })).status).toBe(200);
  });

  it('answers an invitation with its acceptUrl, which works', async () => {
    const email = uniqueEmail('invitee');
    const res = await call<{ acceptUrl: string }>('POST', '/api/org/invitations', {
      token: admin.token,
      body: { email, role: 'developer' },
    });
    expect(res.status).toBe(201);
    expect(res.body.acceptUrl).toMatch(new RegExp(`^${t.url}/invite/\\S+$`));
    const outbox = await call<Outbox>('GET', '/api/admin/mail/outbox', { token: MASTER_KEY });
    expect(outbox.body.data[0]).toMatchObject({ kind: 'invitation', to: email, link: res.body.acceptUrl });
    expect(log.lines.some((l) => l.level === 'warn' && l.message.includes(res.body.acceptUrl))).toBe(true);
    const resent = await call<{ id: string; acceptUrl: string }>('GET', '/api/org/invitations', { token: admin.token });
    expect(JSON.stringify(resent.body)).not.toContain('acceptUrl');
    const token = res.body.acceptUrl.split('/').pop();
    const accepted = await call('POST', `/api/invitations/${token}/accept`, { body: { password: 'correct horse 1' } });
    expect(accepted.status).toBe(200);
  });

  it('shows the outbox to platform admins only', async () => {
    expect((await call('GET', '/api/admin/mail/outbox')).status).toBe(401);
    const user = await register(call, uniqueEmail('plain'));
    const refused = await call<ErrorBody>('GET', '/api/admin/mail/outbox', { token: user.token });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('settings.manage');
  });
});

describe('mail with an SMTP server that is down', () => {
  let t: TestApp;
  let call: Call;
  const log = capturingLog();

  beforeAll(async () => {
    const port = await freePort();
    t = await startTestApp({ env: { AIHUB_MASTER_KEY: MASTER_KEY, AIHUB_SMTP_URL: `smtp://127.0.0.1:${port}` } });
    t.services.mailer.logTo(log);
    call = client(t.url);
  });
  afterAll(async () => t?.close());

  it('still answers at once; the failure is logged and kept in the outbox with its link', async () => {
    const user = await register(call, uniqueEmail('down'));
    const forgot = await call('POST', '/api/auth/password/forgot', { body: { email: user.email } });
    expect(forgot.status).toBe(202);
    await t.services.mailer.idle();
    const outbox = await call<Outbox>('GET', '/api/admin/mail/outbox', { token: MASTER_KEY });
    expect(outbox.body.smtpConfigured).toBe(true);
    const reset = outbox.body.data.find((m) => m.kind === 'password_reset');
    expect(reset).toMatchObject({
      to: user.email,
      status: 'failed',
      link: expect.stringContaining('/reset-password?token='),
    });
    expect(reset?.error).toMatch(/ECONNREFUSED|connect/i);
    expect(log.lines.some((l) => l.level === 'error' && l.detail.to === user.email)).toBe(true);
  });
});

describe('mail links in the log of a running server', () => {
  it('prints the verification link of a sign-up when no SMTP server is configured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aihub-mail-'));
    const port = await freePort();
    const server = spawnServer(port, { AIHUB_DATA_DIR: dir, AIHUB_LOG_LEVEL: 'warn', AIHUB_DEMO: 'false' });
    try {
      expect(await waitHealthy(server, 40_000)).toBe(true);
      const email = uniqueEmail('logged');
      const res = await fetch(`${server.base}/api/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'correct horse 1' }),
      });
      expect(res.status).toBe(201);
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && !server.output().includes(email)) await new Promise((r) => setTimeout(r, 50));
      const line = server
        .output()
        .split('\n')
        .find((l) => l.includes(email));
      expect(line).toContain(`${server.base}/verify-email?token=`);
      expect(line).toMatch(/"level":40|WARN/);
    } finally {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
