/**
 * GET /metrics after real traffic: successes, streams, a failover, an upstream 429 (a key rests), upstream
 * failures, an unknown model, rate-limit and budget refusals. Every family an operator relies on is there
 * with the right counts and bounded labels only; /metrics is off by default and needs its token; the
 * metrics port serves it on its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenForMetrics } from '../../src/observability/routes.js';
import { ManualClock, startTestApp } from '../support/app.js';
import type { FakeUpstream } from '../support/fakes/http.js';
import { openAiAnswers, start as startOpenAi } from '../support/fakes/openai.js';
import {
  addChannel,
  addModel,
  type GatewayUnderTest,
  MASTER_KEY,
  openaiClient,
  PRICES,
  postRaw,
  startGateway,
} from '../support/gateway.js';
import { has, parseExposition, type Sample, total } from '../support/prometheus.js';

const TOKEN = 'metrics-token-0123456789abcdef';
const TEXT = openAiAnswers('openai').text.usage;
const REASONING = openAiAnswers('openai').reasoning.usage;

describe('GET /metrics', () => {
  const clock = new ManualClock();
  let gw: GatewayUnderTest;
  let primary: FakeUpstream;
  let backup: FakeUpstream;
  let broken: FakeUpstream;

  async function scrape(token = TOKEN): Promise<{ status: number; text: string; headers: Headers }> {
    const res = await fetch(`${gw.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  async function samples(): Promise<Sample[]> {
    await gw.t.services.recorder.flush();
    const res = await scrape();
    expect(res.status).toBe(200);
    return parseExposition(res.text).samples;
  }

  beforeAll(async () => {
    gw = await startGateway('sqlite', { clock, env: { AIHUB_METRICS_TOKEN: TOKEN } });
    primary = await startOpenAi({ flavor: 'openai' });
    backup = await startOpenAi({ flavor: 'openai' });
    broken = await startOpenAi({ flavor: 'openai' });
    const primaryId = (
      await addChannel(gw, { name: 'primary', type: 'openai', baseUrl: primary.baseUrl, keys: [primary.key] })
    ).id;
    const backupId = (
      await addChannel(gw, { name: 'backup', type: 'openai', baseUrl: backup.baseUrl, keys: [backup.key] })
    ).id;
    const brokenId = (
      await addChannel(gw, { name: 'broken', type: 'openai', baseUrl: broken.baseUrl, keys: [broken.key] })
    ).id;
    broken.setScenario('server_error');
    await addModel(gw, {
      name: 'obs-model',
      ...PRICES,
      routes: [
        { channelId: primaryId, upstreamModel: 'gpt-4o', priority: 10 },
        { channelId: backupId, upstreamModel: 'gpt-4o', priority: 0 },
      ],
    });
    await addModel(gw, { name: 'obs-broken', routes: [{ channelId: brokenId, upstreamModel: 'gpt-4o' }] });
  });

  afterAll(async () => {
    await gw?.t.close();
    await Promise.all([primary?.close(), backup?.close(), broken?.close()]);
  });

  it('needs the token: none → 401 with a challenge, a wrong one → 401, the right one → the text format', async () => {
    const none = await scrape('');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await scrape('wrong-token-0123456789abcdef')).status).toBe(401);
    // A virtual key or the master key is not the metrics token.
    expect((await scrape(gw.key)).status).toBe(401);
    expect((await scrape(MASTER_KEY)).status).toBe(401);
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const { types } = parseExposition(ok.text);
    expect(types.get('aihub_requests_total')).toBe('counter');
    expect(types.get('aihub_request_duration_seconds')).toBe('histogram');
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
  });

  it('counts traffic in every family, with bounded labels only', async () => {
    const openai = openaiClient(gw);
    const m = { model: 'obs-model', channel: 'primary', provider: 'openai' };
    const before = await samples();
    const had = (name: string, labels: Record<string, string> = {}) => total(before, name, labels);

    // 1 non-stream success, 1 stream success (reasoning: cached and reasoning tokens), on the primary.
    primary.setScenario('text');
    await openai.chat.completions.create({ model: 'obs-model', messages: [{ role: 'user', content: 'hi' }] });
    primary.setScenario('reasoning');
    const stream = await openai.chat.completions.create({
      model: 'obs-model',
      messages: [{ role: 'user', content: 'think' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const _ of stream) {
      // read it all
    }
    // A failover: the primary answers 500, the backup serves.
    primary.setScenario('text');
    primary.queueScenario('server_error');
    backup.setScenario('text');
    await openai.chat.completions.create({ model: 'obs-model', messages: [{ role: 'user', content: 'hi' }] });
    // An upstream 429: the primary's only key rests, the backup serves.
    primary.queueScenario('rate_limit');
    await openai.chat.completions.create({ model: 'obs-model', messages: [{ role: 'user', content: 'hi' }] });
    // An upstream failure with nowhere to fail over to, and a model that does not exist.
    const failed = await postRaw(
      `${gw.url}/v1/chat/completions`,
      { model: 'obs-broken', messages: [{ role: 'user', content: 'hi' }] },
      { authorization: `Bearer ${gw.key}` },
    );
    expect(failed.status).toBe(502);
    const unknown = await postRaw(
      `${gw.url}/v1/chat/completions`,
      { model: 'no-such-model-7f3a', messages: [{ role: 'user', content: 'hi' }] },
      { authorization: `Bearer ${gw.key}` },
    );
    expect(unknown.status).toBe(404);
    // Refusals: a key allowed one request a minute, and a key with a budget smaller than one request.
    const limited = (
      await gw.call<{ secret: string }>('POST', '/api/keys', {
        token: gw.admin.token,
        body: { name: 'obs-rpm', rpm: 1 },
      })
    ).body.secret;
    const poor = (
      await gw.call<{ secret: string }>('POST', '/api/keys', {
        token: gw.admin.token,
        body: { name: 'obs-budget', budgetMicros: 1, budgetPeriod: 'day' },
      })
    ).body.secret;
    const ask = (secret: string) =>
      postRaw(
        `${gw.url}/v1/chat/completions`,
        { model: 'obs-model', messages: [{ role: 'user', content: 'hi' }] },
        { authorization: `Bearer ${secret}` },
      );
    expect((await ask(limited)).status).toBe(200);
    expect((await ask(limited)).status).toBe(429);
    // A budget admits while something is left: the first request spends it, the next is refused.
    expect((await ask(poor)).status).toBe(200);
    expect((await ask(poor)).status).toBe(429);

    const after = await samples();
    const grew = (name: string, labels: Record<string, string> = {}) => total(after, name, labels) - had(name, labels);

    // Requests by outcome: 6 answered on obs-model (2 primary, 3 backup after failover/429 + the rpm key's
    // first; the last served where routing put it), the refusals, the failure and the unknown model.
    expect(grew('aihub_requests_total', { endpoint: 'chat', model: 'obs-model', status_class: '2xx' })).toBe(6);
    expect(grew('aihub_requests_total', { ...m, status_class: '2xx' })).toBeGreaterThanOrEqual(2);
    expect(
      grew('aihub_requests_total', { model: 'obs-model', channel: 'backup', status_class: '2xx' }),
    ).toBeGreaterThanOrEqual(2);
    expect(grew('aihub_requests_total', { model: 'obs-broken', channel: 'broken', status_class: '5xx' })).toBe(1);
    expect(grew('aihub_requests_total', { model: 'unknown', channel: '', status_class: '4xx' })).toBe(1);
    expect(grew('aihub_requests_total', { model: 'obs-model', status_class: '4xx' })).toBe(2);
    expect(grew('aihub_errors_total', { model: 'unknown', error_type: 'model_not_found' })).toBe(1);
    expect(grew('aihub_errors_total', { model: 'obs-broken', error_type: 'upstream_error' })).toBe(1);
    expect(grew('aihub_errors_total', { error_type: 'rate_limit_exceeded' })).toBe(1);
    expect(grew('aihub_errors_total', { error_type: 'insufficient_quota' })).toBe(1);
    expect(grew('aihub_limit_refusals_total', { kind: 'rate_limit' })).toBe(1);
    expect(grew('aihub_limit_refusals_total', { kind: 'budget' })).toBe(1);

    // Upstream attempts: the primary's 500 and 429, the broken channel's 500 (tried up to maxAttempts: once).
    expect(grew('aihub_upstream_requests_total', { channel: 'primary', status_class: '5xx' })).toBe(1);
    expect(grew('aihub_upstream_requests_total', { channel: 'primary', status_class: '4xx' })).toBe(1);
    expect(grew('aihub_upstream_requests_total', { channel: 'primary', status_class: '2xx' })).toBeGreaterThanOrEqual(
      2,
    );
    expect(grew('aihub_upstream_requests_total', { channel: 'broken', status_class: '5xx' })).toBe(1);
    expect(grew('aihub_upstream_duration_seconds_count', { channel: 'primary' })).toBeGreaterThanOrEqual(4);
    expect(grew('aihub_retries_total', { model: 'obs-model' })).toBe(2);
    expect(grew('aihub_failovers_total', { model: 'obs-model' })).toBe(2);
    expect(grew('aihub_provider_key_rests_total', { channel: 'primary', provider: 'openai' })).toBe(1);
    expect(total(after, 'aihub_provider_keys_resting', { channel: 'primary' })).toBe(1);

    // Latency: every request has a duration and an overhead; the stream a first token and token spacing.
    expect(grew('aihub_request_duration_seconds_count', { model: 'obs-model' })).toBe(8);
    expect(grew('aihub_gateway_overhead_seconds_count', { endpoint: 'chat' })).toBe(10);
    expect(grew('aihub_time_to_first_token_seconds_count', m)).toBe(1);
    expect(grew('aihub_inter_token_latency_seconds_count', m)).toBe(1);
    expect(total(after, 'aihub_request_duration_seconds_bucket', { ...m, endpoint: 'chat', le: '+Inf' })).toBe(
      total(after, 'aihub_request_duration_seconds_count', { ...m, endpoint: 'chat' }),
    );

    // Tokens and cost (the primary: one text answer, one reasoning stream).
    expect(grew('aihub_tokens_total', { ...m, type: 'prompt' })).toBe(TEXT.prompt + REASONING.prompt);
    expect(grew('aihub_tokens_total', { ...m, type: 'completion' })).toBe(TEXT.completion + REASONING.completion);
    expect(grew('aihub_tokens_total', { ...m, type: 'cached' })).toBe(REASONING.cached);
    expect(grew('aihub_tokens_total', { ...m, type: 'reasoning' })).toBe(REASONING.reasoning);
    expect(grew('aihub_cost_usd_total', m)).toBeGreaterThan(0);

    // Now: nothing in flight; channels up; the usage writer's queue and flushes; no cache yet.
    expect(total(after, 'aihub_requests_in_flight', { endpoint: 'chat' })).toBe(0);
    expect(total(after, 'aihub_channel_up', { channel: 'primary', provider: 'openai' })).toBe(1);
    expect(has(after, 'aihub_channel_breakers', { channel: 'broken', state: 'closed' })).toBe(true);
    expect(has(after, 'aihub_usage_queue_depth')).toBe(true);
    expect(has(after, 'aihub_usage_unsettled_requests')).toBe(true);
    expect(total(after, 'aihub_usage_flush_duration_seconds_count')).toBeGreaterThan(0);
    expect(total(after, 'aihub_cache_hits_total')).toBe(0);
    expect(has(after, 'nodejs_heap_size_used_bytes')).toBe(true);

    // Bounded labels: no key, user or request ids, no organization unless the setting asks, no paths.
    const text = (await scrape()).text;
    expect(text).not.toContain(gw.keyId);
    expect(text).not.toContain(gw.admin.userId);
    expect(text).not.toContain('req_');
    expect(text).not.toContain('/v1/');
    expect(text).not.toContain('no-such-model-7f3a');
    expect(total(after, 'aihub_organization_requests_total')).toBe(0);
  });

  it('a channel whose every breaker is open is down; all keys resting shows in the gauge', async () => {
    clock.advance(61_000);
    broken.setScenario('server_error');
    for (let i = 0; i < 6; i++)
      await postRaw(
        `${gw.url}/v1/chat/completions`,
        { model: 'obs-broken', messages: [{ role: 'user', content: 'hi' }] },
        { authorization: `Bearer ${gw.key}` },
      );
    const now = await samples();
    expect(total(now, 'aihub_channel_up', { channel: 'broken' })).toBe(0);
    expect(total(now, 'aihub_channel_breakers', { channel: 'broken', state: 'open' })).toBe(1);
    expect(total(now, 'aihub_provider_keys_resting', { channel: 'primary' })).toBe(0);
  });

  it('counts per organization only when metricsByOrganization is on', async () => {
    const patch = await gw.call('PATCH', '/api/admin/settings', {
      token: gw.admin.token,
      body: { metricsByOrganization: true },
    });
    expect(patch.status).toBe(200);
    clock.advance(61_000);
    primary.setScenario('text');
    const { data } = await openaiClient(gw)
      .chat.completions.create({ model: 'obs-model', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBeTruthy();
    const now = await samples();
    const orgs = now.filter((s) => s.name === 'aihub_organization_requests_total');
    expect(orgs).toHaveLength(1);
    expect(orgs[0]?.labels).toEqual({ organization: expect.stringMatching(/^org_/), status_class: '2xx' });
    expect(total(now, 'aihub_organization_tokens_total', { type: 'prompt' })).toBe(TEXT.prompt);
    expect(total(now, 'aihub_organization_cost_usd_total')).toBeGreaterThan(0);
  });
});

describe('/metrics off, and on a port of its own', () => {
  it('is not served without AIHUB_METRICS_TOKEN or AIHUB_METRICS_PORT (404), and no metrics are kept', async () => {
    const t = await startTestApp();
    try {
      const res = await fetch(`${t.url}/metrics`);
      expect(res.status).toBe(404);
      expect(t.services.observability.metrics).toBeUndefined();
    } finally {
      await t.close();
    }
  });

  it('AIHUB_METRICS_PORT: the own port serves /metrics (and nothing else); the public port does not', async () => {
    const gw = await startGateway('sqlite', { env: { AIHUB_METRICS_PORT: '0' } });
    const metrics = gw.t.services.observability.metrics;
    if (!metrics) throw new Error('metrics are on with a metrics port');
    const own = await listenForMetrics(metrics, { port: 0, host: '127.0.0.1', token: undefined });
    try {
      expect((await fetch(`${gw.url}/metrics`)).status).toBe(404);
      const res = await postRaw(
        `${gw.url}/v1/chat/completions`,
        { model: 'not-here', messages: [{ role: 'user', content: 'hi' }] },
        { authorization: `Bearer ${gw.key}` },
      );
      expect(res.status).toBe(404);
      const scraped = await fetch(`http://127.0.0.1:${own.port}/metrics`);
      expect(scraped.status).toBe(200);
      const { samples } = parseExposition(await scraped.text());
      expect(total(samples, 'aihub_requests_total', { endpoint: 'chat' })).toBe(1);
      expect((await fetch(`http://127.0.0.1:${own.port}/v1/models`)).status).toBe(404);
    } finally {
      await own.close();
      await gw.t.close();
    }
  });

  it('the own port asks for the token when one is set', async () => {
    const t = await startTestApp({ env: { AIHUB_METRICS_PORT: '0', AIHUB_METRICS_TOKEN: TOKEN } });
    const metrics = t.services.observability.metrics;
    if (!metrics) throw new Error('metrics are on');
    const own = await listenForMetrics(metrics, { port: 0, host: '127.0.0.1', token: TOKEN });
    try {
      const url = `http://127.0.0.1:${own.port}/metrics`;
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: 'Bearer wrong-wrong-wrong-wrong' } })).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    } finally {
      await own.close();
      await t.close();
    }
  });
});
