/**
 * /metrics behind an IP allow list (AIHUB_METRICS_ALLOW_IPS, the ip-rules matcher): served without a token to
 * the listed addresses only; with a token both apply; behind a trusted proxy the forwarded address counts; the
 * metrics port applies the list to the connecting address; a bad entry stops the start with a clear message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { listenForMetrics } from '../../src/observability/routes.js';
import { startTestApp, type TestApp } from '../support/app.js';

const TOKEN = 'metrics-token-0123456789abcdef';

describe('GET /metrics with an IP allow list', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const scrape = async (headers: Record<string, string> = {}) => {
    const res = await fetch(`${t?.url}/metrics`, { headers });
    return { status: res.status, text: await res.text() };
  };

  it('serves the listed addresses without a token, and refuses others with a 403', async () => {
    t = await startTestApp({ env: { AIHUB_METRICS_ALLOW_IPS: '10.0.0.0/8, 127.0.0.1' } });
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('# TYPE');
    await t.close();

    t = await startTestApp({ env: { AIHUB_METRICS_ALLOW_IPS: '10.0.0.0/8' } });
    const refused = await scrape({ authorization: `Bearer ${TOKEN}` });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text)).toMatchObject({ error: { code: 'ip_not_allowed' } });
  });

  it('with a token as well, both apply', async () => {
    t = await startTestApp({ env: { AIHUB_METRICS_ALLOW_IPS: '127.0.0.0/8', AIHUB_METRICS_TOKEN: TOKEN } });
    expect((await scrape()).status).toBe(401);
    expect((await scrape({ authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    await t.close();
    t = await startTestApp({ env: { AIHUB_METRICS_ALLOW_IPS: '2001:db8::/32', AIHUB_METRICS_TOKEN: TOKEN } });
    expect((await scrape({ authorization: `Bearer ${TOKEN}` })).status).toBe(403);
  });

  it('behind a trusted proxy, judges the forwarded client address', async () => {
    t = await startTestApp({ env: { AIHUB_METRICS_ALLOW_IPS: '10.0.0.0/8', AIHUB_TRUST_PROXY: 'true' } });
    expect((await scrape({ 'x-forwarded-for': '10.1.2.3' })).status).toBe(200);
    expect((await scrape({ 'x-forwarded-for': '192.0.2.7' })).status).toBe(403);
  });

  it('without a token or a list there is still no /metrics on the public port', async () => {
    t = await startTestApp();
    expect((await scrape()).status).toBe(404);
  });

  it('the metrics port applies the list to the connecting address', async () => {
    t = await startTestApp({ env: { AIHUB_METRICS_ALLOW_IPS: '127.0.0.1' } });
    const metrics = t.services.observability.metrics;
    if (!metrics) throw new Error('metrics are on with an allow list');
    for (const [allowIps, status] of [
      [['127.0.0.1/32'], 200],
      [['10.0.0.0/8'], 403],
    ] as const) {
      const port = await listenForMetrics(metrics, { port: 0, host: '127.0.0.1', token: undefined, allowIps });
      try {
        expect((await fetch(`http://127.0.0.1:${port.port}/metrics`)).status).toBe(status);
      } finally {
        await port.close();
      }
    }
  });

  it('refuses an entry that is not an address or range, naming it', () => {
    let error: unknown;
    try {
      loadConfig({ AIHUB_DATA_DIR: '/tmp', AIHUB_METRICS_ALLOW_IPS: '10.0.0.0/8, 10/8' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toContain('AIHUB_METRICS_ALLOW_IPS');
    expect(String((error as Error).message)).toContain('"10/8"');
    expect(loadConfig({ AIHUB_DATA_DIR: '/tmp', AIHUB_METRICS_ALLOW_IPS: ' 10.0.0.1 ,::1' }).metrics.allowIps).toEqual([
      '10.0.0.1/32',
      '::1/128',
    ]);
  });
});
