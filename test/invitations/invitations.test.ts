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

interface Invitation {
  id: string;
  email: string;
  role: string;
  team: { id: string; name: string } | null;
  teamRole: string | null;
  status: string;
  expiresAt: number;
  acceptUrl?: string;
}
interface Preview {
  organization: { name: string; slug: string };
  email: string;
  role: string;
  roleName: string;
  team: { name: string } | null;
  teamRole: string | null;
  expiresAt: number;
  accountExists: boolean;
}
interface Accepted {
  user: { id: string; email: string; name: string; orgId: string; emailVerifiedAt: number | null };
  organization: { id: string; name: string };
  role: string;
  team: { id: string; name: string } | null;
  accessToken?: string;
}
interface Me {
  organization: { id: string; role: string | null };
  organizations: Array<{ id: string; role: string }>;
  teams: Array<{ id: string; role: string }>;
}

const INVITED = /invited/;
const tokenOf = (link: string): string => decodeURIComponent(new URL(link).pathname.split('/').pop() ?? '');

describe.each(ENGINES)('invitations (%s)', (engine) => {
  const login = async (email: string) => {
    const res = await call<{ accessToken: string }>('POST', '/api/auth/login', {
      body: { email, password: 'correct horse 1' },
    });
    expect(res.status).toBe(200);
    return { token: res.body.accessToken };
  };
  let t: TestApp;
  let smtp: TestSmtpServer;
  let call: Call;
  const clock = new ManualClock();
  let platformAdmin: SignedIn;
  let orgAdmin: SignedIn;
  let otherAdmin: SignedIn;
  let orgA: { id: string; name: string };
  let orgB: { id: string };
  let team: { id: string; name: string };
  const inA = (who: SignedIn | string) => ({
    token: typeof who === 'string' ? who : who.token,
    headers: { 'x-aihub-organization': orgA.id },
  });
  const invite = async (body: Record<string, unknown>, who: SignedIn = orgAdmin) =>
    call<Invitation & ErrorBody>('POST', '/api/org/invitations', { ...inA(who), body });

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await startTestApp({ engine, clock, env: { AIHUB_MASTER_KEY: MASTER_KEY, AIHUB_SMTP_URL: smtp.url } });
    call = client(t.url);
    platformAdmin = await register(call, uniqueEmail('platform'));
    orgAdmin = await register(call, uniqueEmail('org-admin'));
    otherAdmin = await register(call, uniqueEmail('other-admin'));
    const a = await call<{ id: string; name: string }>('POST', '/api/organizations', {
      token: platformAdmin.token,
      body: { name: 'Acme Labs' },
    });
    const b = await call<{ id: string }>('POST', '/api/organizations', {
      token: platformAdmin.token,
      body: { name: 'Globex' },
    });
    orgA = a.body;
    orgB = b.body;
    for (const [org, who] of [
      [orgA.id, orgAdmin],
      [orgB.id, otherAdmin],
    ] as const) {
      const added = await call('POST', '/api/org/members', {
        token: platformAdmin.token,
        headers: { 'x-aihub-organization': org },
        body: { email: who.email, role: 'admin' },
      });
      expect(added.status).toBe(201);
    }
    const created = await call<{ id: string; name: string }>('POST', '/api/org/teams', {
      ...inA(orgAdmin),
      body: { name: 'Research' },
    });
    expect(created.status).toBe(201);
    team = { id: created.body.id, name: created.body.name };
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it('invites a new address to an organization and a team; accepting creates the account and signs it in', async () => {
    const email = uniqueEmail('newcomer');
    const res = await invite({ email: email.toUpperCase(), role: 'developer', teamId: team.id, teamRole: 'admin' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email, role: 'developer', team, teamRole: 'admin', status: 'pending' });
    expect(res.body.expiresAt).toBe(clock.now() + 7 * 86_400_000);
    // SMTP is configured: the link goes by mail only.
    expect(res.body.acceptUrl).toBeUndefined();
    const mail = await smtp.next(email, INVITED);
    expect(mail.subject).toContain('Acme Labs');
    expect(mail.text).toContain(orgAdmin.email);
    expect(mail.link.startsWith(`${t.url}/invite/`)).toBe(true);
    const token = tokenOf(mail.link);
    const stored = await t.database.handle.db.selectFrom('invitations').selectAll().execute();
    expect(JSON.stringify(stored)).not.toContain(token);

    const preview = await call<Preview>('GET', `/api/invitations/${encodeURIComponent(token)}`);
    expect(preview.status).toBe(200);
    expect(preview.body).toEqual({
      organization: { name: 'Acme Labs', slug: expect.any(String) },
      email,
      role: 'developer',
      roleName: 'Developer',
      team: { name: 'Research' },
      teamRole: 'admin',
      expiresAt: res.body.expiresAt,
      accountExists: false,
    });

    const noPassword = await call<ErrorBody>('POST', `/api/invitations/${token}/accept`, { body: {} });
    expect(noPassword.status).toBe(400);
    expect(noPassword.body.error).toMatchObject({ code: 'validation_failed' });

    const accepted = await call<Accepted>('POST', `/api/invitations/${token}/accept`, {
      body: { name: 'New Comer', password: 'correct horse 1' },
    });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({
      user: { email, name: 'New Comer', orgId: orgA.id },
      organization: { id: orgA.id, name: 'Acme Labs' },
      role: 'developer',
      team,
    });
    expect(accepted.body.user.emailVerifiedAt).toBe(clock.now());
    expect(refreshCookieOf(accepted.headers)).toMatch(/^aihub_refresh=/);
    const token2 = accepted.body.accessToken as string;
    const me = await call<Me>('GET', '/api/me', { token: token2 });
    // Home is the inviting organization; the new account is in no other (not the Default one).
    expect(me.body.organization).toMatchObject({ id: orgA.id, role: 'developer' });
    expect(me.body.organizations.map((o) => o.id)).toEqual([orgA.id]);
    expect(me.body.teams).toEqual([{ id: team.id, name: 'Research', role: 'admin' }]);

    const again = await call<ErrorBody>('POST', `/api/invitations/${token}/accept`, {
      body: { password: 'correct horse 1' },
    });
    expect(again.status).toBe(410);
    expect(again.body.error.code).toBe('invitation_gone');
    expect((await call('GET', `/api/invitations/${token}`)).status).toBe(410);

    const list = await call<{ data: Invitation[] }>('GET', '/api/org/invitations', inA(orgAdmin));
    expect(list.body.data.find((i) => i.id === res.body.id)?.status).toBe('accepted');
    for (const action of ['invitation.create', 'invitation.accept']) {
      const rows = await t.database.handle.db
        .selectFrom('audit_logs')
        .selectAll()
        .where('action', '=', action)
        .where('target_id', '=', res.body.id)
        .execute();
      expect(rows.map((r) => r.org_id)).toEqual([orgA.id]);
    }
    expect((await auditRows(t, { action: 'user.register', targetId: accepted.body.user.id }))[0]?.detail).toMatchObject(
      { via: 'invitation' },
    );
  });

  it('lets an existing account accept only once signed in as the invited address', async () => {
    const dave = await register(call, uniqueEmail('dave'));
    const eve = await register(call, uniqueEmail('eve'));
    const res = await invite({ email: dave.email, role: 'viewer' });
    expect(res.status).toBe(201);
    const token = tokenOf((await smtp.next(dave.email, INVITED)).link);
    expect((await call<Preview>('GET', `/api/invitations/${token}`)).body.accountExists).toBe(true);

    const anonymous = await call<ErrorBody>('POST', `/api/invitations/${token}/accept`, {
      body: { password: 'whatever long' },
    });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.message).toMatch(/sign in first/);
    const wrongUser = await call<ErrorBody>('POST', `/api/invitations/${token}/accept`, { token: eve.token, body: {} });
    expect(wrongUser.status).toBe(403);
    expect(wrongUser.body.error.code).toBe('forbidden');
    const master = await call('POST', `/api/invitations/${token}/accept`, { token: MASTER_KEY, body: {} });
    expect(master.status).toBe(403);
    const badToken = await call('POST', `/api/invitations/${token}/accept`, { token: 'garbage', body: {} });
    expect(badToken.status).toBe(401);

    // Signed in, no body is needed.
    const accepted = await call<Accepted>('POST', `/api/invitations/${token}/accept`, { token: dave.token });
    expect(accepted.status).toBe(200);
    expect(accepted.body.accessToken).toBeUndefined();
    expect(accepted.body.role).toBe('viewer');
    const me = await call<Me>('GET', '/api/me', inA(dave));
    expect(me.body.organization).toMatchObject({ id: orgA.id, role: 'viewer' });
    // Eve is still not in the organization.
    expect((await call('GET', '/api/me', inA(eve))).status).toBe(404);
  });

  it('refuses expired links; a resend renews the invitation and the old link stops working', async () => {
    const email = uniqueEmail('late');
    const res = await invite({ email, role: 'developer' });
    const oldToken = tokenOf((await smtp.next(email, INVITED)).link);
    clock.advance(7 * 86_400_000 + 1);
    // Access tokens expired with the clock: sign in again.
    for (const who of [orgAdmin, otherAdmin, platformAdmin]) who.token = (await login(who.email)).token;
    expect((await call<ErrorBody>('GET', `/api/invitations/${oldToken}`)).body.error.code).toBe('invitation_gone');
    const late = await call<ErrorBody>('POST', `/api/invitations/${oldToken}/accept`, {
      body: { password: 'correct horse 1' },
    });
    expect(late.status).toBe(410);
    expect(late.body.error.message).toMatch(/expired/);
    const listed = await call<{ data: Invitation[] }>('GET', '/api/org/invitations', inA(orgAdmin));
    expect(listed.body.data.find((i) => i.id === res.body.id)?.status).toBe('expired');

    const resent = await call<Invitation>('POST', `/api/org/invitations/${res.body.id}/resend`, inA(orgAdmin));
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ status: 'pending', expiresAt: clock.now() + 7 * 86_400_000 });
    const newToken = tokenOf((await smtp.next(email, INVITED)).link);
    expect(newToken).not.toBe(oldToken);
    expect((await call('GET', `/api/invitations/${oldToken}`)).status).toBe(404);
    expect(
      (await call('POST', `/api/invitations/${oldToken}/accept`, { body: { password: 'x'.repeat(10) } })).status,
    ).toBe(404);
    const accepted = await call('POST', `/api/invitations/${newToken}/accept`, {
      body: { password: 'correct horse 1' },
    });
    expect(accepted.status).toBe(200);
    expect(await auditRows(t, { action: 'invitation.resend', targetId: res.body.id })).toHaveLength(1);
  });

  it('revokes: the link is gone, and a revoked invitation cannot be revoked or resent', async () => {
    const email = uniqueEmail('revoked');
    const res = await invite({ email, role: 'developer' });
    const token = tokenOf((await smtp.next(email, INVITED)).link);
    expect((await call('DELETE', `/api/org/invitations/${res.body.id}`, inA(orgAdmin))).status).toBe(204);
    const accept = await call<ErrorBody>('POST', `/api/invitations/${token}/accept`, {
      body: { password: 'correct horse 1' },
    });
    expect(accept.status).toBe(410);
    expect(accept.body.error.message).toMatch(/revoked/);
    expect((await call('DELETE', `/api/org/invitations/${res.body.id}`, inA(orgAdmin))).status).toBe(410);
    expect((await call('POST', `/api/org/invitations/${res.body.id}/resend`, inA(orgAdmin))).status).toBe(410);
    // Revoked: a new invitation of the address is allowed.
    expect((await invite({ email, role: 'developer' })).status).toBe(201);
    const rows = await auditRows(t, { action: 'invitation.revoke', targetId: res.body.id });
    expect(rows).toHaveLength(1);
  });

  it("keeps an organization's invitations from every other organization's admins (404)", async () => {
    const email = uniqueEmail('private');
    const res = await invite({ email, role: 'developer' });
    await smtp.next(email, INVITED);
    const inB = { token: otherAdmin.token, headers: { 'x-aihub-organization': orgB.id } };
    const listB = await call<{ data: Invitation[] }>('GET', '/api/org/invitations', inB);
    expect(listB.status).toBe(200);
    expect(listB.body.data.some((i) => i.email === email)).toBe(false);
    expect((await call('DELETE', `/api/org/invitations/${res.body.id}`, inB)).status).toBe(404);
    expect((await call('POST', `/api/org/invitations/${res.body.id}/resend`, inB)).status).toBe(404);
    // Naming organization A does not help a non-member.
    expect((await call('GET', '/api/org/invitations', inA(otherAdmin))).status).toBe(404);
    const still = await call<{ data: Invitation[] }>('GET', '/api/org/invitations', inA(orgAdmin));
    expect(still.body.data.find((i) => i.id === res.body.id)?.status).toBe('pending');
  });

  it('checks who may invite, with which role and team', async () => {
    const developer = await register(call, uniqueEmail('dev'));
    await call('POST', '/api/org/members', { ...inA(orgAdmin), body: { email: developer.email, role: 'developer' } });
    const noRight = await invite({ email: uniqueEmail('x'), role: 'developer' }, developer);
    expect(noRight.status).toBe(403);
    expect(noRight.body.error.message).toContain('members.manage');
    expect((await call('GET', '/api/org/invitations', inA(developer))).status).toBe(403);
    expect((await call('GET', '/api/org/invitations')).status).toBe(401);

    // No escalation: an organization admin cannot invite owners.
    const owner = await invite({ email: uniqueEmail('x'), role: 'owner' });
    expect(owner.status).toBe(403);
    const unknownRole = await invite({ email: uniqueEmail('x'), role: 'wizard' });
    expect(unknownRole.status).toBe(400);
    expect(unknownRole.body.error).toMatchObject({ code: 'validation_failed' });

    const teamB = await call<{ id: string }>('POST', '/api/org/teams', {
      token: otherAdmin.token,
      headers: { 'x-aihub-organization': orgB.id },
      body: { name: 'Elsewhere' },
    });
    const foreignTeam = await invite({ email: uniqueEmail('x'), role: 'developer', teamId: teamB.body.id });
    expect(foreignTeam.status).toBe(400);
    expect((await invite({ email: uniqueEmail('x'), role: 'developer', teamRole: 'admin' })).status).toBe(400);

    const member = await invite({ email: developer.email, role: 'viewer' });
    expect(member.status).toBe(409);
    // An existing member may still be invited to a team.
    expect((await invite({ email: developer.email, role: 'developer', teamId: team.id })).status).toBe(201);
    const email = uniqueEmail('twice');
    expect((await invite({ email, role: 'developer' })).status).toBe(201);
    const twice = await invite({ email, role: 'developer' });
    expect(twice.status).toBe(409);
    expect(twice.body.error.message).toMatch(/resend/);
    expect((await call('GET', '/api/invitations/not-a-token')).status).toBe(404);
  });
});
