/**
 * Statements (issue #18): a run (a job: "issue now" or the monthly schedule) issues one numbered statement
 * per organization with activity in the month — usage by model/team/key at list price and the ledger's
 * movements — idempotently; documents never change (corrections are new documents naming the original);
 * CSV and PDF carry the operator's details; another organization's statements do not exist for the caller;
 * the revenue report sums list price and cost per day and month.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../support/app.js';
import { adjust, defaultOrg, expectLedgerConsistent, settleUsage } from '../support/billing.js';
import { ENGINES } from '../support/databases.js';
import { HELLO_COST, type LimitsApp, MASTER, START, startLimitsApp, uniqueEmail } from '../support/limits.js';

interface Statement {
  id: string;
  number: string;
  orgId: string;
  teamId: string | null;
  kind: string;
  period: string;
  totalMicros: number;
  correctsId: string | null;
  reason: string | null;
}
interface Detail extends Statement {
  correctsNumber: string | null;
  content: {
    operator: { name: string; address: string };
    customer: { name: string };
    usage: Array<{ model: string; keyId: string; teamId: string | null; requests: number; amountMicros: number }>;
    usageTotalMicros: number;
    ledger: {
      topUpsMicros: number;
      creditsMicros: number;
      openingBalanceMicros: number;
      closingBalanceMicros: number;
    } | null;
  };
}
interface Job {
  id: string;
  state: string;
  result: { period: string; issued: string[]; existing: string[] } | null;
  error: string | null;
}

const DAY = 86_400_000;
// START is 2026-11-22; the run happens on 2026-12-02.
const DECEMBER_2 = Date.UTC(2026, 11, 2, 3);

describe.each(ENGINES)('statements (%s)', (engine) => {
  let app: LimitsApp;
  let orgId: string;
  let teamId: string;
  let keyId: string;
  let otherOrg: string;
  let statement: Statement;
  beforeAll(async () => {
    app = await startLimitsApp({ engine, backend: 'memory' });
    orgId = await defaultOrg(app.call);
    await app.t.services.jobs.start();
    const team = await app.call<{ id: string }>('POST', '/api/org/teams', {
      token: MASTER,
      body: { name: 'Research' },
    });
    expect(team.status, JSON.stringify(team.body)).toBe(201);
    teamId = team.body.id;
    const key = await app.newKey({ teamId });
    keyId = key.key.id;
    // November: two requests, a credit; the org's price multiplier 1.5.
    await app.call('PATCH', '/api/org', { token: MASTER, body: { priceMultiplier: 1.5 } });
    expect((await app.chat(key.secret)).status).toBe(200);
    app.clock.advance(DAY);
    expect((await app.chat(key.secret)).status).toBe(200);
    expect((await adjust(app, orgId, 5_000_000, 'November credit')).status).toBe(201);
    const other = await app.call<{ id: string }>('POST', '/api/organizations', {
      token: MASTER,
      body: { name: 'Quiet Org', slug: `quiet-${engine}` },
    });
    expect(other.status, JSON.stringify(other.body)).toBe(201);
    otherOrg = other.body.id;
    await settleUsage(app);
    // The operator's details first: once the clock passes the 1st, 02:00, the monthly schedule may issue the
    // statement at any moment (and an issued statement never changes).
    await app.settings({ operatorName: 'Hub Operator GmbH', operatorAddress: 'Main St 1, Berlin' });
    app.clock.time = DECEMBER_2;
  }, 60_000);
  afterAll(async () => {
    await app?.t.services.jobs.stop(0);
    await app?.close();
  });
  afterEach(async () => expectLedgerConsistent(app));

  const run = async (body: Record<string, unknown>): Promise<Job> => {
    const started = await app.call<Job>('POST', '/api/admin/billing/statements/run', { token: MASTER, body });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    for (let i = 0; i < 300; i++) {
      const job = await app.call<Job>('GET', `/api/admin/jobs/${started.body.id}`, { token: MASTER });
      if (['succeeded', 'failed', 'cancelled'].includes(job.body.state)) return job.body;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('statement run did not finish');
  };
  const listOf = async (org: string) =>
    (
      await app.call<{ data: Statement[] }>('GET', '/api/billing/statements', {
        token: MASTER,
        headers: { 'x-aihub-organization': org },
      })
    ).body.data;

  it('issues the previous month as a job (schedule or issue now): one numbered statement per active organization, with usage and ledger', async () => {
    const job = await run({});
    expect(job.state, job.error ?? '').toBe('succeeded');
    expect(job.result?.period).toBe('2026-11');
    // The monthly schedule may have issued it already (the clock passed the 1st, 02:00): one either way.
    expect([...(job.result?.issued ?? []), ...(job.result?.existing ?? [])]).toHaveLength(1);
    const [only, ...rest] = await listOf(orgId);
    expect(rest).toEqual([]);
    statement = only as Statement;
    expect(statement).toMatchObject({ kind: 'statement', period: '2026-11', orgId, totalMicros: HELLO_COST * 1.5 * 2 });
    expect(statement.number).toMatch(/^AIH-2026-\d{6}$/);
    // The quiet organization had nothing in November: no statement.
    expect(await listOf(otherOrg)).toEqual([]);
    const detail = await app.call<Detail>('GET', `/api/billing/statements/${statement.id}`, { token: MASTER });
    expect(detail.status).toBe(200);
    expect(detail.body.content.operator).toEqual({ name: 'Hub Operator GmbH', address: 'Main St 1, Berlin' });
    expect(detail.body.content.usage).toEqual([
      expect.objectContaining({ model: 'mock-gpt', keyId, teamId, requests: 2, amountMicros: HELLO_COST * 3 }),
    ]);
    expect(detail.body.content.ledger).toMatchObject({
      creditsMicros: 5_000_000,
      openingBalanceMicros: 0,
      closingBalanceMicros: 5_000_000,
    });
  });

  it('is idempotent per organization and period, and numbers sequentially', async () => {
    const again = await run({ period: '2026-11' });
    expect(again.result).toMatchObject({ issued: [], existing: [statement.number] });
    // "Issue now" for one organization issues it even without activity, under the next number.
    const quiet = await run({ period: '2026-11', orgId: otherOrg });
    expect(quiet.result?.issued).toHaveLength(1);
    const seq = (n: string) => Number(n.split('-')[2]);
    expect(seq(quiet.result?.issued[0] as string)).toBe(seq(statement.number) + 1);
    const [q] = await listOf(otherOrg);
    expect(q?.totalMicros).toBe(0);
    expect((await listOf(orgId)).map((s) => s.id)).toEqual([statement.id]);
  });

  it('serves CSV and PDF with the operator and the lines', async () => {
    const csv = await fetch(`${app.t.url}/api/billing/statements/${statement.id}/csv`, {
      headers: { authorization: `Bearer ${MASTER}` },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-disposition')).toContain(`${statement.number}.csv`);
    const text = await csv.text();
    expect(text).toContain(`document,${statement.number}`);
    expect(text).toContain('operator,Hub Operator GmbH');
    expect(text).toMatch(/mock-gpt,Research,limits-\d+,2,/);
    expect(text).toContain('credits,5.00');
    const pdf = await fetch(`${app.t.url}/api/billing/statements/${statement.id}/pdf`, {
      headers: { authorization: `Bearer ${MASTER}` },
    });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await pdf.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(bytes.length).toBeGreaterThan(1000);
  });

  it('corrects with new documents naming the original, which stays as it was', async () => {
    const before = await app.call<Detail>('GET', `/api/billing/statements/${statement.id}`, { token: MASTER });
    const note = await app.call<Statement>('POST', `/api/admin/billing/statements/${statement.id}/credit-note`, {
      token: MASTER,
      body: { amountMicros: 100, reason: 'Goodwill' },
    });
    expect(note.status, JSON.stringify(note.body)).toBe(201);
    expect(note.body).toMatchObject({
      kind: 'credit_note',
      totalMicros: -100,
      correctsId: statement.id,
      reason: 'Goodwill',
    });
    const corrected = await app.call<Statement>('POST', `/api/admin/billing/statements/${statement.id}/reissue`, {
      token: MASTER,
      body: { reason: 'Late usage rows' },
    });
    expect(corrected.status).toBe(201);
    expect(corrected.body).toMatchObject({ kind: 'corrected', correctsId: statement.id, period: '2026-11' });
    const noteCsv = await (
      await fetch(`${app.t.url}/api/billing/statements/${note.body.id}/csv`, {
        headers: { authorization: `Bearer ${MASTER}` },
      })
    ).text();
    expect(noteCsv).toContain(`corrects,${statement.number}`);
    const after = await app.call<Detail>('GET', `/api/billing/statements/${statement.id}`, { token: MASTER });
    expect(after.body).toEqual(before.body);
    // Too much, no reason, unknown document.
    const tooMuch = await app.call<{ error: { code: string } }>(
      'POST',
      `/api/admin/billing/statements/${statement.id}/credit-note`,
      { token: MASTER, body: { amountMicros: statement.totalMicros + 1, reason: 'x' } },
    );
    expect(tooMuch.status).toBe(400);
    const blank = await app.call('POST', `/api/admin/billing/statements/${statement.id}/reissue`, {
      token: MASTER,
      body: { reason: '   ' },
    });
    expect(blank.status).toBe(400);
    const unknown = await app.call('POST', '/api/admin/billing/statements/stm_nope/reissue', {
      token: MASTER,
      body: { reason: 'x' },
    });
    expect(unknown.status).toBe(404);
    const admin = await app.call<{ data: Statement[] }>('GET', `/api/admin/billing/statements?orgId=${orgId}`, {
      token: MASTER,
    });
    expect(admin.body.data.map((s) => s.kind)).toEqual(['corrected', 'credit_note', 'statement']);
  });

  it('refuses bad periods, and keeps organizations apart', async () => {
    for (const period of ['2026-13', '2026-12', 'soon']) {
      const res = await app.call('POST', '/api/admin/billing/statements/run', { token: MASTER, body: { period } });
      expect(res.status, period).toBe(400);
    }
    // Another organization's statement: not found in its list, by id, or as a download.
    const asOther = { token: MASTER, headers: { 'x-aihub-organization': otherOrg } };
    expect((await app.call('GET', `/api/billing/statements/${statement.id}`, asOther)).status).toBe(404);
    expect((await app.call('GET', `/api/billing/statements/${statement.id}/pdf`, asOther)).status).toBe(404);
    expect((await app.call('GET', `/api/billing/statements/${statement.id}/csv`, asOther)).status).toBe(404);
    // No token; a member without billing.read; a non-admin on the admin routes.
    expect((await app.call('GET', '/api/billing/statements', {})).status).toBe(401);
    const member = await register(app.call, uniqueEmail('member'));
    const me = await app.call<{ permissions: string[] }>('GET', '/api/me', { token: member.token });
    const list = await app.call('GET', '/api/billing/statements', { token: member.token });
    expect(list.status).toBe(me.body.permissions.includes('billing.read') ? 200 : 403);
    expect((await app.call('GET', '/api/admin/billing/statements', { token: member.token })).status).toBe(403);
    expect(
      (await app.call('POST', '/api/admin/billing/statements/run', { token: member.token, body: {} })).status,
    ).toBe(403);
    expect(
      (await app.call('GET', `/api/admin/billing/statements/${statement.id}/pdf`, { token: member.token })).status,
    ).toBe(403);
  });

  it('reports list price, cost and margin per day and per month', async () => {
    const query = `from=${Date.UTC(2026, 10, 1)}&to=${Date.UTC(2026, 11, 1)}`;
    const days = await app.call<{
      currency: string;
      data: Array<{ at: number; requests: number; priceMicros: number; costMicros: number; marginMicros: number }>;
      totals: { requests: number; priceMicros: number; costMicros: number; marginMicros: number };
    }>('GET', `/api/admin/billing/revenue?${query}&interval=day`, { token: MASTER });
    expect(days.status).toBe(200);
    const day = Math.floor(START / DAY) * DAY;
    expect(days.body.data).toEqual([
      { at: day, requests: 1, priceMicros: 72, costMicros: 48, marginMicros: 24 },
      { at: day + DAY, requests: 1, priceMicros: 72, costMicros: 48, marginMicros: 24 },
    ]);
    const months = await app.call<typeof days.body>('GET', `/api/admin/billing/revenue?${query}&interval=month`, {
      token: MASTER,
    });
    expect(months.body.data).toEqual([
      { at: Date.UTC(2026, 10, 1), requests: 2, priceMicros: 144, costMicros: 96, marginMicros: 48 },
    ]);
    expect(months.body.totals).toEqual({ requests: 2, priceMicros: 144, costMicros: 96, marginMicros: 48 });
    const one = await app.call<typeof days.body>('GET', `/api/admin/billing/revenue?${query}&orgId=${otherOrg}`, {
      token: MASTER,
    });
    expect(one.body.totals.requests).toBe(0);
    const backwards = await app.call('GET', `/api/admin/billing/revenue?from=10&to=5`, { token: MASTER });
    expect(backwards.status).toBe(400);
  });
});
