/**
 * Setting limits through the API: every limit on keys (/api/keys) and on users, teams and the
 * organization (/api/admin/limits), with validation that names the field, admin-only access, 404 for
 * unknown levels, PATCH semantics (omitted = unchanged, null = removed) and an audit record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, register, type SignedIn } from '../support/app.js';
import { type KeyBody, type LimitsApp, MASTER, type Policy, startLimitsApp, uniqueEmail } from '../support/limits.js';

interface ErrorBody {
  error: { code: string; message: string };
}

const NO_LIMITS: Policy = {
  budgetMicros: null,
  budgetPeriod: 'month',
  tokenQuota: null,
  tokenQuotaPeriod: 'month',
  rpm: null,
  tpm: null,
  maxConcurrency: null,
};

const FULL: Policy = {
  budgetMicros: 5_000_000,
  budgetPeriod: 'week',
  tokenQuota: 2_000_000,
  tokenQuotaPeriod: 'day',
  rpm: 60,
  tpm: 90_000,
  maxConcurrency: 4,
};

/** Bodies each limit endpoint must refuse, with the field the message has to name. */
const INVALID: Array<[Record<string, unknown>, string]> = [
  [{ rpm: 0 }, 'rpm'],
  [{ rpm: -3 }, 'rpm'],
  [{ tpm: 'ten' }, 'tpm'],
  [{ budgetMicros: -1 }, 'budgetMicros'],
  [{ budgetMicros: 1.5 }, 'budgetMicros'],
  [{ tokenQuota: -5 }, 'tokenQuota'],
  [{ maxConcurrency: 0 }, 'maxConcurrency'],
  [{ budgetPeriod: 'year' }, 'budgetPeriod'],
  [{ tokenQuotaPeriod: 'hour' }, 'tokenQuotaPeriod'],
  [{ rpmm: 5 }, 'rpmm'],
];

describe.each(BACKENDS)('limits API (%s counters)', (backend) => {
  let a: LimitsApp;
  let dev: SignedIn;
  let teamId: string;

  beforeAll(async () => {
    a = await startLimitsApp({ backend });
    dev = await register(a.call, uniqueEmail(`dev-${backend}`));
    const team = await a.call<{ id: string }>('POST', '/api/admin/teams', {
      token: MASTER,
      body: { name: 'platform' },
    });
    teamId = team.body.id;
  });
  afterAll(async () => a?.close());

  describe('on keys', () => {
    it('takes every limit and restriction at creation and shows them back', async () => {
      const created = await a.newKey({ ...FULL, allowedModels: ['mock-*'], allowedIps: ['10.0.0.0/8'], teamId });
      expect(created.key).toMatchObject({
        limits: FULL,
        allowedModels: ['mock-*'],
        allowedIps: ['10.0.0.0/8'],
        teamId,
      });
      const read = await a.call<KeyBody>('GET', `/api/keys/${created.key.id}`, { token: MASTER });
      expect(read.body.limits).toEqual(FULL);
    });

    it('changes only what a PATCH names, and null removes a limit', async () => {
      const { key } = await a.newKey({ ...FULL }, dev.token);
      const patched = await a.call<KeyBody>('PATCH', `/api/keys/${key.id}`, {
        token: dev.token,
        body: { rpm: 5, budgetMicros: null },
      });
      expect(patched.status).toBe(200);
      expect(patched.body.limits).toEqual({ ...FULL, rpm: 5, budgetMicros: null });
      const read = await a.call<KeyBody>('GET', `/api/keys/${key.id}`, { token: dev.token });
      expect(read.body.limits).toEqual({ ...FULL, rpm: 5, budgetMicros: null });
    });

    it.each(INVALID)('refuses %j with 400 naming %s', async (body, field) => {
      const created = await a.call<ErrorBody>('POST', '/api/keys', {
        token: dev.token,
        body: { name: 'bad', ...body },
      });
      expect(created.status).toBe(400);
      expect(created.body.error.code).toBe('validation_failed');
      expect(created.body.error.message).toContain(field);
      const { key } = await a.newKey({}, dev.token);
      const patched = await a.call<ErrorBody>('PATCH', `/api/keys/${key.id}`, { token: dev.token, body });
      expect(patched.status).toBe(400);
      expect(patched.body.error.message).toContain(field);
    });

    it("lets no one change another user's key limits, and only those who manage a team's keys put keys in it", async () => {
      const { key } = await a.newKey({ rpm: 5 });
      const other = await a.call('PATCH', `/api/keys/${key.id}`, { token: dev.token, body: { rpm: null } });
      expect(other.status).toBe(404);
      const own = await a.newKey({}, dev.token);
      const team = await a.call<ErrorBody>('PATCH', `/api/keys/${own.key.id}`, { token: dev.token, body: { teamId } });
      expect(team.status).toBe(403);
      const create = await a.call<ErrorBody>('POST', '/api/keys', { token: dev.token, body: { name: 'team', teamId } });
      expect(create.status).toBe(403);
      const unknownTeam = await a.call<ErrorBody>('PATCH', `/api/keys/${own.key.id}`, {
        token: MASTER,
        body: { teamId: 'team_nope' },
      });
      // A team that is not the organization's (or none at all) is not found.
      expect(unknownTeam.status).toBe(404);
      expect(unknownTeam.body.error.message).toContain('team_nope');
    });
  });

  describe('on users, teams and the organization', () => {
    it('sets, reads and removes limits on each level', async () => {
      for (const [scope, id] of [
        ['user', dev.userId],
        ['team', teamId],
        ['org', 'org_default'],
      ] as const) {
        const set = await a.setLimits(scope, id, { ...FULL });
        expect(set).toEqual(FULL);
        const partial = await a.setLimits(scope, id, { rpm: 7, tokenQuota: null });
        expect(partial).toEqual({ ...FULL, rpm: 7, tokenQuota: null });
        const read = await a.call<{ limits: Policy; usage: { spend: number; tokens: number; requests: number } }>(
          'GET',
          `/api/admin/limits/${scope}/${id}`,
          { token: MASTER },
        );
        expect(read.status).toBe(200);
        expect(read.body.limits).toEqual({ ...FULL, rpm: 7, tokenQuota: null });
        expect(read.body.usage).toEqual({
          spend: expect.any(Number),
          tokens: expect.any(Number),
          requests: expect.any(Number),
        });
        // Removing every limit leaves the level unlimited.
        const cleared = await a.setLimits(scope, id, {
          budgetMicros: null,
          rpm: null,
          tpm: null,
          maxConcurrency: null,
        });
        expect(cleared).toMatchObject({
          budgetMicros: null,
          tokenQuota: null,
          rpm: null,
          tpm: null,
          maxConcurrency: null,
        });
        const after = await a.call<{ limits: Policy }>('GET', `/api/admin/limits/${scope}/${id}`, { token: MASTER });
        expect(after.body.limits).toEqual(NO_LIMITS);
      }
      const audit = await a.call<{ data: Array<{ action: string; targetId: string }> }>(
        'GET',
        '/api/admin/audit?action=limits.update',
        {
          token: MASTER,
        },
      );
      expect(audit.body.data.map((e) => e.targetId)).toEqual(
        expect.arrayContaining([dev.userId, teamId, 'org_default']),
      );
    });

    it('is for admins only', async () => {
      const { secret } = await a.newKey({}, dev.token);
      for (const [method, body] of [
        ['GET', undefined],
        ['PATCH', { rpm: 1 }],
      ] as const) {
        const path = `/api/admin/limits/user/${dev.userId}`;
        expect((await a.call(method, path, { body })).status).toBe(401);
        expect((await a.call(method, path, { token: dev.token, body })).status).toBe(403);
        expect((await a.call(method, path, { token: secret, body })).status).toBe(401);
      }
      expect(
        (await a.call('PATCH', `/api/admin/limits/org/org_default`, { token: dev.token, body: { rpm: 1 } })).status,
      ).toBe(403);
      expect((await a.call('POST', '/api/admin/teams', { token: dev.token, body: { name: 'sneaky' } })).status).toBe(
        403,
      );
      // Nothing changed.
      const read = await a.call<{ limits: Policy }>('GET', `/api/admin/limits/user/${dev.userId}`, { token: MASTER });
      expect(read.body.limits.rpm).toBeNull();
    });

    it('answers 404 for an unknown user, team or organization, and 400 for an unknown level', async () => {
      for (const [scope, what] of [
        ['user', 'User'],
        ['team', 'Team'],
        ['org', 'Organization'],
      ]) {
        for (const method of ['GET', 'PATCH']) {
          const res = await a.call<ErrorBody>(method, `/api/admin/limits/${scope}/nope_123`, {
            token: MASTER,
            body: method === 'PATCH' ? { rpm: 1 } : undefined,
          });
          expect(res.status, `${method} ${scope}`).toBe(404);
          expect(res.body.error).toMatchObject({ code: 'not_found', message: `${what} not found` });
        }
      }
      const key = await a.call<ErrorBody>('PATCH', `/api/admin/limits/key/whatever`, {
        token: MASTER,
        body: { rpm: 1 },
      });
      expect(key.status).toBe(400);
      expect(key.body.error.message).toContain('scope');
    });

    it.each(INVALID)('refuses %j with 400 naming %s', async (body, field) => {
      const res = await a.call<ErrorBody>('PATCH', `/api/admin/limits/user/${dev.userId}`, { token: MASTER, body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toContain(field);
    });

    it('refuses an empty change', async () => {
      const res = await a.call<ErrorBody>('PATCH', `/api/admin/limits/team/${teamId}`, { token: MASTER, body: {} });
      expect(res.status).toBe(400);
    });
  });

  describe('in settings', () => {
    it('validates the time zone and the default limits, naming the field', async () => {
      const zone = await a.call<ErrorBody>('PATCH', '/api/admin/settings', {
        token: MASTER,
        body: { limitsTimeZone: 'Mars/Olympus' },
      });
      expect(zone.status).toBe(400);
      expect(zone.body.error.message).toContain('limitsTimeZone');
      const defaults = await a.call<ErrorBody>('PATCH', '/api/admin/settings', {
        token: MASTER,
        body: { defaultKeyLimits: { rpm: 0 } },
      });
      expect(defaults.status).toBe(400);
      expect(defaults.body.error.message).toContain('rpm');
      const unknown = await a.call<ErrorBody>('PATCH', '/api/admin/settings', {
        token: MASTER,
        body: { defaultUserLimits: { budget: 5 } },
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.message).toContain('budget');
      expect(
        (await a.call('PATCH', '/api/admin/settings', { token: dev.token, body: { limitsTimeZone: 'UTC' } })).status,
      ).toBe(403);
      const settings = await a.call<{ limitsTimeZone: string; defaultKeyLimits: object }>(
        'GET',
        '/api/admin/settings',
        { token: MASTER },
      );
      expect(settings.body).toMatchObject({ limitsTimeZone: 'UTC', defaultKeyLimits: {} });
    });
  });
});
