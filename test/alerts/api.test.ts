/**
 * The alerts API: platform admins only; rules and destinations validated; destination secrets sealed at rest
 * and never answered; a test delivery; deleting what is in use; every change audited. And the rule kinds
 * read from the request log, budgets, balances and the writer's backlog.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertEvaluator } from '../../src/modules/alerts/evaluator.js';
import { AlertsRepository } from '../../src/modules/alerts/repository.js';
import { verifySignature } from '../../src/modules/alerts/signature.js';
import { auditRows, MASTER_KEY, uniqueEmail } from '../support/accounts.js';
import { type HookReceiver, startHookReceiver } from '../support/alerts.js';
import { type Call, client, ManualClock, register, startTestApp, type TestApp } from '../support/app.js';
import { ENGINES } from '../support/databases.js';
import { logRow } from '../support/log-rows.js';

interface Destination {
  id: string;
  kind: string;
  target: string;
  hasSecret: boolean;
  secret?: string;
}
interface Rule {
  id: string;
  kind: string;
  firing: number;
  enabled: boolean;
  minSamples: number;
  windowMinutes: number;
}
interface ApiError {
  error: { code: string; message: string };
}

describe.each(ENGINES)('alerts API (%s)', (engine) => {
  const clock = new ManualClock();
  let t: TestApp;
  let call: Call;
  let member: string;
  let hook: HookReceiver;
  let orgId: string;
  const admin = { token: MASTER_KEY };
  const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
    call<T>(method, path, { ...admin, body });

  beforeAll(async () => {
    hook = await startHookReceiver();
    t = await startTestApp({ engine, clock, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
    call = client(t.url);
    await register(call, uniqueEmail('alerts-first'));
    member = (await register(call, uniqueEmail('alerts-member'))).token;
    orgId = (await api<{ id: string }>('GET', '/api/org')).body.id;
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await hook?.close();
  });

  it('is for platform admins only', async () => {
    for (const [method, path] of [
      ['GET', '/api/admin/alerts/rules'],
      ['GET', '/api/admin/alerts/destinations'],
      ['GET', '/api/admin/alerts/events'],
      ['POST', '/api/admin/alerts/destinations'],
    ] as const) {
      expect((await call(method, path)).status).toBe(401);
      const refused = await call<ApiError>(method, path, { token: member, body: method === 'POST' ? {} : undefined });
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toContain('platform.alerts');
    }
  });

  it('keeps destination secrets sealed, never answers them, and signs with the current one', async () => {
    const webhook = await api<Destination>('POST', '/api/admin/alerts/destinations', {
      name: 'signed',
      kind: 'webhook',
      url: `${hook.url}/hook`,
      secret: 'my-own-secret-0123456789',
    });
    expect(webhook.status).toBe(201);
    // A secret the admin chose is not echoed; a generated one is shown once.
    expect(webhook.body.secret).toBeUndefined();
    expect(webhook.body).toMatchObject({ kind: 'webhook', target: `${hook.url}/hook`, hasSecret: true });
    const slack = await api<Destination>('POST', '/api/admin/alerts/destinations', {
      name: 'slack',
      kind: 'slack',
      url: `${hook.url}/services/T1/B2/very-secret-token`,
    });
    expect(slack.body.target).toBe(new URL(hook.url).host);

    const listed = await api<{ data: Destination[] }>('GET', '/api/admin/alerts/destinations');
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain('my-own-secret');
    expect(text).not.toContain('very-secret-token');
    const rows = await t.database.handle.db.selectFrom('alert_destinations').select(['id', 'secret']).execute();
    for (const row of rows) {
      expect(row.secret).toMatch(/^v1:/);
      expect(row.secret).not.toContain('secret');
    }

    const tested = await api<{ delivered: boolean; error: string | null }>(
      'POST',
      `/api/admin/alerts/destinations/${webhook.body.id}/test`,
    );
    expect(tested.body).toEqual({ delivered: true, error: null });
    const got = hook.received.at(-1);
    expect(got?.body).toMatchObject({ event: 'alert.test', state: 'firing' });
    const ts = Number(got?.headers['x-aihub-timestamp']);
    expect(ts).toBe(Math.floor(clock.now() / 1000));
    expect(
      verifySignature('my-own-secret-0123456789', ts, got?.raw ?? '', String(got?.headers['x-aihub-signature'])),
    ).toBe(true);

    // A new secret replaces the old one.
    expect(
      (await api('PATCH', `/api/admin/alerts/destinations/${webhook.body.id}`, { secret: 'rotated-secret-0123456789' }))
        .status,
    ).toBe(200);
    await api('POST', `/api/admin/alerts/destinations/${webhook.body.id}/test`);
    const again = hook.received.at(-1);
    expect(
      verifySignature(
        'rotated-secret-0123456789',
        Number(again?.headers['x-aihub-timestamp']),
        again?.raw ?? '',
        String(again?.headers['x-aihub-signature']),
      ),
    ).toBe(true);

    await api('POST', `/api/admin/alerts/destinations/${slack.body.id}/test`);
    expect(hook.received.at(-1)).toMatchObject({
      path: '/services/T1/B2/very-secret-token',
      body: { text: expect.stringMatching(/^\[test\] /) },
    });

    // A receiver that fails: reported, with the host only (a Slack URL's path is its secret).
    hook.failNext(1, 503);
    const failed = await api<{ delivered: boolean; error: string }>(
      'POST',
      `/api/admin/alerts/destinations/${slack.body.id}/test`,
    );
    expect(failed.body.delivered).toBe(false);
    expect(failed.body.error).toContain('503');
    expect(failed.body.error).not.toContain('very-secret-token');

    // Mail without an SMTP server is a failed delivery, not a silent one.
    const mail = await api<Destination>('POST', '/api/admin/alerts/destinations', {
      name: 'mail',
      kind: 'email',
      emails: ['Ops@Example.com'],
    });
    expect(mail.body.target).toBe('ops@example.com');
    const noSmtp = await api<{ delivered: boolean; error: string }>(
      'POST',
      `/api/admin/alerts/destinations/${mail.body.id}/test`,
    );
    expect(noSmtp.body).toMatchObject({ delivered: false, error: expect.stringContaining('SMTP') });

    expect((await auditRows(t, { action: 'alert_destination.create' })).length).toBeGreaterThanOrEqual(3);
    expect((await auditRows(t, { action: 'alert_destination.test', targetId: webhook.body.id })).length).toBe(2);
    expect(JSON.stringify(await auditRows(t, { action: 'alert_destination.*' }))).not.toContain('rotated-secret');
  });

  it('refuses bad input with a 400 that names the field', async () => {
    const bad: Array<[string, Record<string, unknown>, string]> = [
      ['/api/admin/alerts/destinations', { name: 'x', kind: 'webhook', url: 'file:///etc/passwd' }, 'url'],
      ['/api/admin/alerts/destinations', { name: 'x', kind: 'webhook' }, 'url'],
      ['/api/admin/alerts/destinations', { name: 'x', kind: 'email' }, 'emails'],
      ['/api/admin/alerts/destinations', { name: 'x', kind: 'email', emails: ['not-an-address'] }, 'emails'],
      ['/api/admin/alerts/destinations', { name: 'x', kind: 'pager', url: 'https://x.example' }, 'kind'],
      [
        '/api/admin/alerts/destinations',
        { name: 'x', kind: 'webhook', url: 'https://x.example', secret: 'short' },
        'secret',
      ],
      ['/api/admin/alerts/rules', { name: 'x', kind: 'error_rate' }, 'threshold'],
      ['/api/admin/alerts/rules', { name: 'x', kind: 'error_rate', threshold: 150 }, 'threshold'],
      ['/api/admin/alerts/rules', { name: 'x', kind: 'nonsense', threshold: 1 }, 'kind'],
      ['/api/admin/alerts/rules', { name: 'x', kind: 'channel_down', organizationId: orgId }, 'organizationId'],
      [
        '/api/admin/alerts/rules',
        { name: 'x', kind: 'budget', threshold: 80, organizationId: 'org_nope' },
        'organizationId',
      ],
      ['/api/admin/alerts/rules', { name: 'x', kind: 'budget', threshold: 80, channelId: 'chn_x' }, 'channelId'],
      [
        '/api/admin/alerts/rules',
        { name: 'x', kind: 'balance', threshold: 1, destinationIds: ['ald_nope'] },
        'destinationIds',
      ],
      ['/api/admin/alerts/rules', { name: 'x', kind: 'error_rate', threshold: 5, windowMinutes: 0 }, 'windowMinutes'],
    ];
    for (const [path, body, field] of bad) {
      const res = await api<ApiError>('POST', path, body);
      expect(res.status, `${JSON.stringify(body)} → ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error.message).toContain(field);
    }
    expect((await api('PATCH', '/api/admin/alerts/rules/alr_nope', { name: 'y' })).status).toBe(404);
    expect((await api('DELETE', '/api/admin/alerts/destinations/ald_nope')).status).toBe(404);
    expect((await api('POST', '/api/admin/alerts/destinations/ald_nope/test')).status).toBe(404);
    expect((await api('GET', '/api/admin/alerts/events?state=open')).status).toBe(400);
  });

  it('a destination in use cannot be deleted; disabling a rule resolves it silently', async () => {
    const dest = await api<Destination>('POST', '/api/admin/alerts/destinations', {
      name: 'in use',
      kind: 'webhook',
      url: `${hook.url}/x`,
    });
    const ch = await api<{ id: string }>('POST', '/api/admin/channels', {
      name: 'doomed',
      type: 'openai',
      baseUrl: 'http://127.0.0.1:9/v1',
      keys: ['sk-x'],
    });
    const rule = await api<Rule>('POST', '/api/admin/alerts/rules', {
      name: 'down',
      kind: 'channel_down',
      channelId: ch.body.id,
      destinationIds: [dest.body.id],
    });
    expect(rule.status).toBe(201);
    expect(rule.body).toMatchObject({ enabled: true, firing: 0, windowMinutes: 5 });
    const conflict = await api<ApiError>('DELETE', `/api/admin/alerts/destinations/${dest.body.id}`);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.message).toContain('down');

    // Auto-disabled (what the gateway stores after persistent failures): down on every instance.
    await t.services.channels.disable(ch.body.id, 'auto: failing persistently');
    const fired = await t.services.alerts.evaluator.evaluate();
    expect(fired.filter((e) => e.rule_id === rule.body.id).map((e) => e.state)).toEqual(['firing']);
    const listed = await api<{ data: Rule[] }>('GET', '/api/admin/alerts/rules');
    expect(listed.body.data.find((r) => r.id === rule.body.id)?.firing).toBe(1);
    // Disabled by an admin on purpose is not "down": and a disabled rule says nothing at all.
    const off = await api<Rule>('PATCH', `/api/admin/alerts/rules/${rule.body.id}`, { enabled: false });
    expect(off.body).toMatchObject({ enabled: false, firing: 0 });
    expect((await t.services.alerts.evaluator.evaluate()).filter((e) => e.rule_id === rule.body.id)).toEqual([]);

    expect((await api('DELETE', `/api/admin/alerts/rules/${rule.body.id}`)).status).toBe(204);
    expect((await api('DELETE', `/api/admin/alerts/destinations/${dest.body.id}`)).status).toBe(204);
    expect(
      (await auditRows(t, { action: 'alert_rule.*', targetId: rule.body.id })).map((r) => r.action).sort(),
    ).toEqual(['alert_rule.create', 'alert_rule.delete', 'alert_rule.update']);
  });

  it('reads latency, spend spikes and budgets from the request log, and the backlog from the writer', async () => {
    clock.advance(24 * 3_600_000);
    const now = clock.now();
    const db = t.database.handle.db;
    let i = 0;
    const log = (at: number, latency: number, cost: number) =>
      db
        .insertInto('request_logs')
        .values(
          logRow({
            id: `req_alerttest_${engine}_${++i}`,
            at,
            org_id: orgId,
            model: 'm',
            cost_micros: cost,
            price_micros: cost,
            latency_ms: latency,
          }),
        )
        .execute();
    // Previous 10 minutes: 1,000 spent. Last 10 minutes: 20 requests, one slow, 5,000 spent.
    await log(now - 15 * 60_000, 100, 1_000);
    for (let k = 0; k < 19; k++) await log(now - 60_000, 100 + k, 250);
    await log(now - 30_000, 9_000, 250);
    const create = (body: Record<string, unknown>) => api<Rule>('POST', '/api/admin/alerts/rules', body);
    const p95 = await create({ name: 'slow', kind: 'latency_p95', threshold: 110, windowMinutes: 10, minSamples: 5 });
    const relaxed = await create({ name: 'slow enough', kind: 'latency_p95', threshold: 200, windowMinutes: 10 });
    const spike = await create({
      name: 'spike',
      kind: 'spend_spike',
      threshold: 300,
      windowMinutes: 10,
      organizationId: orgId,
    });
    const noSpike = await create({ name: 'no spike', kind: 'spend_spike', threshold: 500, windowMinutes: 10 });
    expect(relaxed.body.minSamples).toBe(10);
    const set = await api('PATCH', `/api/admin/limits/org/${orgId}`, { budgetMicros: 6_000, budgetPeriod: 'month' });
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    const budget = await create({ name: 'budget 80', kind: 'budget', threshold: 80 });
    const budget95 = await create({ name: 'budget 95', kind: 'budget', threshold: 95, organizationId: orgId });

    const events = await t.services.alerts.evaluator.evaluate();
    const by = (id: string) => events.filter((e) => e.rule_id === id).map((e) => [e.subject, e.state, e.value]);
    // p95 of 100…118 and 9000 (20 samples) is the 19th: 118.
    expect(by(p95.body.id)).toEqual([['all', 'firing', 118]]);
    expect(by(relaxed.body.id)).toEqual([]);
    // 5,000 against 1,000: +400 %.
    expect(by(spike.body.id)).toEqual([[orgId, 'firing', 400]]);
    expect(by(noSpike.body.id)).toEqual([]);
    // 5,000 + 1,000 of 6,000 this month (the budget's period): 100 %.
    expect(by(budget.body.id)).toEqual([[orgId, 'firing', 100]]);
    expect(by(budget95.body.id)).toEqual([[orgId, 'firing', 100]]);

    // The usage writer's backlog is per instance: an evaluator over a writer 500 rows behind.
    const rule = await create({ name: 'backlog', kind: 'usage_backlog', threshold: 100 });
    const behind = new AlertEvaluator({
      repo: new AlertsRepository(db),
      clock,
      newId: t.services.newId,
      enqueueDelivery: async () => undefined,
      sources: {
        breakerOpen: () => false,
        budgetOf: async () => ({ used: 0, limit: null }),
        backlog: () => 500,
        flushLog: async () => undefined,
        currency: () => 'USD',
        instance: 'node-a',
      },
    });
    const backlog = (await behind.evaluate()).filter((e) => e.rule_id === rule.body.id);
    expect(backlog.map((e) => [e.subject_name, e.state, e.value, e.message])).toEqual([
      [
        'node-a',
        'firing',
        500,
        'FIRING: backlog — 500 request-log rows waiting to be written on node-a (threshold 100)',
      ],
    ]);
    expect(
      (await t.services.alerts.evaluator.evaluate()).filter((e) => e.rule_id === rule.body.id).map((e) => e.state),
    ).toEqual(['resolved']);
  });
});
