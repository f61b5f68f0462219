/**
 * Alerts end to end: a channel goes down behind a failing fake upstream → one alert to a signed webhook, a
 * Slack-compatible webhook and a mailbox; nothing more while it stays down; resolved when it recovers. An
 * error-rate rule over a window (manual clock), a balance rule whose webhook fails twice and is retried with
 * backoff, and the history API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/modules/alerts/signature.js';
import { MASTER_KEY } from '../support/accounts.js';
import { type HookReceiver, startHookReceiver } from '../support/alerts.js';
import { type Call, client, ManualClock, register, startTestApp, type TestApp } from '../support/app.js';
import { ENGINES } from '../support/databases.js';
import { ProgrammableUpstream } from '../support/fakes/programmable-upstream.js';
import { eventually } from '../support/gateway.js';
import { startSmtpServer, type TestSmtpServer } from '../support/mail.js';

interface AlertEvent {
  id: string;
  ruleId: string;
  state: 'firing' | 'resolved';
  subject: string;
  value: number | null;
  message: string;
}

describe.each(ENGINES)('alerts (%s)', (engine) => {
  const clock = new ManualClock();
  const upstream = new ProgrammableUpstream();
  let t: TestApp;
  let call: Call;
  let key: string;
  let hook: HookReceiver;
  let slack: HookReceiver;
  let smtp: TestSmtpServer;
  let hookSecret: string;
  let hookId: string;
  let slackId: string;
  let mailId: string;
  let n = 0;

  const admin = { token: MASTER_KEY };
  const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
    call<T>(method, path, { ...admin, body });
  const evaluate = () => t.services.alerts.evaluator.evaluate();
  const chat = (model: string) =>
    call('POST', '/v1/chat/completions', { token: key, body: { model, messages: [{ role: 'user', content: 'hi' }] } });

  /** A channel on the programmable upstream and a model routed only to it. */
  async function channelAndModel(): Promise<{ channelId: string; model: string }> {
    const name = `alert-m${++n}`;
    const ch = await api<{ id: string }>('POST', '/api/admin/channels', {
      name: `alert-ch${n}`,
      type: 'openai',
      baseUrl: upstream.url,
      keys: ['sk-upstream'],
    });
    expect(ch.status).toBe(201);
    const m = await api('POST', '/api/admin/models', {
      name,
      inputPrice: 1_000_000,
      outputPrice: 1_000_000,
      routes: [{ channelId: ch.body.id }],
    });
    expect(m.status).toBe(201);
    return { channelId: ch.body.id, model: name };
  }

  async function rule(body: Record<string, unknown>): Promise<string> {
    const res = await api<{ id: string }>('POST', '/api/admin/alerts/rules', body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id;
  }

  beforeAll(async () => {
    await upstream.start();
    hook = await startHookReceiver();
    slack = await startHookReceiver();
    smtp = await startSmtpServer();
    t = await startTestApp({
      engine,
      clock,
      env: { AIHUB_MASTER_KEY: MASTER_KEY, AIHUB_SMTP_URL: smtp.url, AIHUB_JOBS_POLL_MS: '20' },
    });
    call = client(t.url);
    const user = await register(call, `alerts-${engine}@example.com`);
    key = (await call<{ secret: string }>('POST', '/api/keys', { token: user.token, body: { name: 'alerts' } })).body
      .secret;
    await api('PATCH', '/api/admin/settings', { healthCheckIntervalSeconds: 0, breakerCooldownSeconds: 1 });
    await t.services.jobs.start({ workers: true });
    // The minutely evaluation is declared; the tests evaluate by hand instead, between their steps.
    const schedule = await t.services.jobs.setScheduleEnabled('alerts.evaluate.minutely', false);
    expect(schedule).toMatchObject({ type: 'alerts.evaluate', cron: '* * * * *' });

    const created = await api<{ id: string; secret: string; hasSecret: boolean }>(
      'POST',
      '/api/admin/alerts/destinations',
      { name: 'ops webhook', kind: 'webhook', url: `${hook.url}/alerts` },
    );
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_/);
    expect(created.body.hasSecret).toBe(true);
    hookSecret = created.body.secret;
    hookId = created.body.id;
    slackId = (
      await api<{ id: string }>('POST', '/api/admin/alerts/destinations', {
        name: 'slack',
        kind: 'slack',
        url: `${slack.url}/services/T000/B000/XXXX`,
      })
    ).body.id;
    mailId = (
      await api<{ id: string }>('POST', '/api/admin/alerts/destinations', {
        name: 'on-call',
        kind: 'email',
        emails: ['oncall@example.com'],
      })
    ).body.id;
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await upstream.close();
    await hook?.close();
    await slack?.close();
    await smtp?.close();
  });

  /** The webhook deliveries of one rule, in order. */
  const hooksOf = (ruleId: string) =>
    hook.received.filter((h) => (h.body.rule as { id: string } | undefined)?.id === ruleId);

  it('a channel that goes down alerts once on every destination, and resolves when it recovers', async () => {
    await api('PATCH', '/api/admin/settings', { breakerFailureThreshold: 1 });
    const { channelId, model } = await channelAndModel();
    const ruleId = await rule({
      name: 'Channel down',
      kind: 'channel_down',
      channelId,
      destinationIds: [hookId, slackId, mailId],
    });

    expect(await evaluate()).toEqual([]);
    upstream.always({ kind: 'status', status: 500 });
    expect((await chat(model)).status).toBeGreaterThanOrEqual(500);

    const fired = await evaluate();
    expect(fired.map((e) => [e.rule_id, e.subject, e.state])).toEqual([[ruleId, channelId, 'firing']]);
    const [delivery] = await eventually(() => (hooksOf(ruleId).length === 1 ? hooksOf(ruleId) : undefined));
    // The signature covers "<timestamp>.<raw body>" with the destination's secret.
    const timestamp = Number(delivery?.headers['x-aihub-timestamp']);
    const signature = String(delivery?.headers['x-aihub-signature']);
    expect(verifySignature(hookSecret, timestamp, delivery?.raw ?? '', signature)).toBe(true);
    expect(verifySignature('whsec_wrong_secret_0000', timestamp, delivery?.raw ?? '', signature)).toBe(false);
    expect(delivery?.headers['x-aihub-event']).toBe('alert.firing');
    expect(delivery?.body).toMatchObject({
      event: 'alert.firing',
      state: 'firing',
      subject: channelId,
      subjectName: `alert-ch${n}`,
      rule: { id: ruleId, name: 'Channel down', kind: 'channel_down' },
    });
    const slackMessage = await eventually(() =>
      slack.received.find(
        (s) => String(s.body.text).includes(channelId) || String(s.body.text).includes(`alert-ch${n}`),
      ),
    );
    expect(slackMessage.path).toBe('/services/T000/B000/XXXX');
    expect(Object.keys(slackMessage.body)).toEqual(['text']);
    expect(slackMessage.body.text).toMatch(/^FIRING: Channel down — channel alert-ch\d+ is down$/);
    const mail = await smtp.next('oncall@example.com', /FIRING: Channel down/);
    expect(mail.text).toContain(`alert-ch${n}`);

    // Still down: no second alert.
    expect(await evaluate()).toEqual([]);
    await new Promise((r) => setTimeout(r, 200));
    expect(hooksOf(ruleId)).toHaveLength(1);

    upstream.always({ kind: 'ok', text: 'back' });
    clock.advance(2_000);
    expect((await chat(model)).status).toBe(200);
    const resolved = await evaluate();
    expect(resolved.map((e) => [e.subject, e.state])).toEqual([[channelId, 'resolved']]);
    const both = await eventually(() => (hooksOf(ruleId).length === 2 ? hooksOf(ruleId) : undefined));
    expect(both[1]?.body).toMatchObject({ event: 'alert.resolved', state: 'resolved' });
    await smtp.next('oncall@example.com', /RESOLVED: Channel down/);
    expect(await evaluate()).toEqual([]);

    const history = await api<{ data: AlertEvent[]; total: number }>(
      'GET',
      `/api/admin/alerts/events?ruleId=${ruleId}`,
    );
    expect(history.body.total).toBe(2);
    expect(history.body.data.map((e) => e.state)).toEqual(['resolved', 'firing']);
    const firingOnly = await api<{ data: AlertEvent[]; total: number }>(
      'GET',
      `/api/admin/alerts/events?ruleId=${ruleId}&state=firing&limit=1`,
    );
    expect(firingOnly.body).toMatchObject({ total: 1, data: [{ state: 'firing', subject: channelId }] });
    await api('PATCH', '/api/admin/settings', { breakerFailureThreshold: 1000 });
  });

  it('an error-rate rule fires over its window with enough requests, and resolves when the window passes', async () => {
    await api('PATCH', '/api/admin/settings', { breakerFailureThreshold: 1000 });
    const { channelId, model } = await channelAndModel();
    clock.advance(10 * 60_000);
    const ruleId = await rule({
      name: 'Errors',
      kind: 'error_rate',
      threshold: 50,
      windowMinutes: 5,
      minSamples: 4,
      channelId,
      destinationIds: [hookId],
    });
    upstream.always({ kind: 'ok' });
    await chat(model);
    upstream.always({ kind: 'status', status: 500 });
    await chat(model);
    await chat(model);
    // 2 of 3 failed, but 3 requests are fewer than the rule's minimum of 4.
    expect(await evaluate()).toEqual([]);
    upstream.always({ kind: 'ok' });
    await chat(model);
    // 2 of 4: 50 % is not above 50 %.
    expect(await evaluate()).toEqual([]);
    upstream.always({ kind: 'status', status: 500 });
    await chat(model);
    const fired = await evaluate();
    expect(fired.map((e) => [e.rule_id, e.state, e.value])).toEqual([[ruleId, 'firing', 60]]);
    await eventually(() => hooksOf(ruleId).length === 1, 10_000);
    clock.advance(60_000);
    expect(await evaluate()).toEqual([]);

    clock.advance(5 * 60_000);
    const resolved = await evaluate();
    expect(resolved.map((e) => e.state)).toEqual(['resolved']);
    await eventually(() => hooksOf(ruleId).length === 2, 10_000);
    upstream.always({ kind: 'ok' });
  });

  it('retries a failing webhook with backoff until it is delivered (a balance rule)', async () => {
    const org = await api<{ id: string }>('GET', '/api/org');
    const orgId = org.body.id;
    expect(
      (
        await api('POST', `/api/admin/organizations/${orgId}/billing/adjustments`, {
          amountMicros: 500_000,
          reason: 'seed',
        })
      ).status,
    ).toBe(201);
    const ruleId = await rule({
      name: 'Low balance',
      kind: 'balance',
      threshold: 1_000_000,
      organizationId: orgId,
      destinationIds: [hookId],
    });
    hook.failNext(2);
    const fired = await evaluate();
    expect(fired.map((e) => [e.subject, e.state, e.value])).toEqual([[orgId, 'firing', 500_000]]);
    // Each retry waits its backoff on the app's clock: move it on until the third attempt gets through.
    await eventually(
      async () => {
        clock.advance(30_000);
        await new Promise((r) => setTimeout(r, 50));
        return hooksOf(ruleId).length === 1;
      },
      15_000,
      'the retried delivery',
    );
    const jobs = await t.services.jobs.list({ scope: null, type: 'alerts.deliver', limit: 50, offset: 0 });
    const job = jobs.data.find((j) => (j.payload as { eventId: string }).eventId === fired[0]?.id);
    expect(job).toMatchObject({ state: 'succeeded', attempts: 3 });
    expect(hooksOf(ruleId)[0]?.body).toMatchObject({ event: 'alert.firing', organizationId: orgId, value: 500_000 });

    await api('POST', `/api/admin/organizations/${orgId}/billing/adjustments`, {
      amountMicros: 1_000_000,
      reason: 'top up',
    });
    expect((await evaluate()).map((e) => [e.rule_id, e.state])).toEqual([[ruleId, 'resolved']]);
  });
});
