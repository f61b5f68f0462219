/**
 * Low-balance notices: thresholds per organization; when a posting takes the balance below one, the owners
 * and billing managers get a mail and the organization's webhook a POST — once per crossing, again only after
 * the balance rose above the threshold.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { adjust, defaultOrg, expectLedgerConsistent } from '../support/billing.js';
import { ENGINES } from '../support/databases.js';
import { eventually } from '../support/gateway.js';
import { type LimitsApp, MASTER, startLimitsApp } from '../support/limits.js';

interface Hook {
  event: string;
  organizationId: string;
  balanceMicros: number;
  thresholdMicros: number;
  currency: string;
}

describe.each(ENGINES)('low-balance notices (%s)', (engine) => {
  let app: LimitsApp;
  let orgId: string;
  let server: Server;
  let hookUrl: string;
  const hooks: Hook[] = [];
  beforeAll(async () => {
    app = await startLimitsApp({ engine, backend: 'memory' });
    orgId = await defaultOrg(app.call);
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        hooks.push(JSON.parse(body) as Hook);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    server?.close();
  });
  afterEach(async () => expectLedgerConsistent(app));

  const lowMails = async () => {
    const res = await app.call<{ data: Array<{ kind: string; subject: string }> }>('GET', '/api/admin/mail/outbox', {
      token: MASTER,
    });
    return res.body.data.filter((m) => m.kind === 'low_balance');
  };

  it('tells once per threshold crossed, by mail and webhook, and re-arms when the balance rises', async () => {
    const set = await app.call<{ lowBalanceThresholds: number[]; lowBalanceWebhookUrl: string }>(
      'PATCH',
      `/api/admin/organizations/${orgId}/billing`,
      { token: MASTER, body: { lowBalanceThresholds: [100, 1_000], lowBalanceWebhookUrl: hookUrl } },
    );
    expect(set.status, JSON.stringify(set.body)).toBe(200);
    expect(set.body).toMatchObject({ lowBalanceThresholds: [1_000, 100], lowBalanceWebhookUrl: hookUrl });

    await adjust(app, orgId, 2_000); // 2000: above both
    await adjust(app, orgId, -1_500); // 500: below 1000 → told
    await eventually(() => hooks.length === 1, 5_000, 'the first webhook');
    await adjust(app, orgId, -100); // 400: still below 1000 only → nothing
    await adjust(app, orgId, -350); // 50: below 100 → told
    await eventually(() => hooks.length === 2, 5_000, 'the second webhook');
    await adjust(app, orgId, 5_000); // 5050: re-armed
    await adjust(app, orgId, -5_000); // 50: below both → told about the lowest
    await eventually(() => hooks.length === 3, 5_000, 'the third webhook');
    expect(hooks.map((h) => [h.thresholdMicros, h.balanceMicros])).toEqual([
      [1_000, 500],
      [100, 50],
      [100, 50],
    ]);
    expect(hooks[0]).toMatchObject({ event: 'balance.low', organizationId: orgId, currency: 'USD' });
    const mails = await eventually(async () => {
      const m = await lowMails();
      return m.length >= 3 ? m : undefined;
    });
    expect(mails).toHaveLength(3);
    expect(mails[0]?.subject).toContain('below');
  });

  it('refuses a webhook that is not an http(s) URL', async () => {
    const res = await app.call('PATCH', `/api/admin/organizations/${orgId}/billing`, {
      token: MASTER,
      body: { lowBalanceWebhookUrl: 'file:///etc/passwd' },
    });
    expect(res.status).toBe(400);
  });
});
