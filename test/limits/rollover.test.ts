/**
 * Period counters roll over by themselves (they are keyed by period), at midnight in the `limitsTimeZone`
 * setting, with a hand-moved clock: day, ISO week, month and lifetime, on the key and the user level.
 * /api/usage/current and Retry-After name the next boundary.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, ManualClock, register } from '../support/app.js';
import {
  HELLO_COST,
  HELLO_TOKENS,
  type LimitsApp,
  MASTER,
  START,
  secondsUntil,
  startLimitsApp,
  uniqueEmail,
} from '../support/limits.js';

describe.each(BACKENDS)('period rollover (%s counters)', (backend) => {
  let a: LimitsApp;
  const clock = new ManualClock(START);

  beforeAll(async () => {
    a = await startLimitsApp({ backend, clock });
  });
  afterAll(async () => a?.close());
  afterEach(async () => {
    clock.time = START;
    await a.settings({ limitsTimeZone: 'UTC' });
  });

  const meterOf = async (secret: string, what: 'spend' | 'tokens') => (await a.usage(secret)).keys[0]?.usage[what];

  it('resets a daily budget at UTC midnight, not a moment earlier', async () => {
    const midnight = Date.UTC(2026, 10, 23);
    const { secret } = await a.newKey({ budgetMicros: 1, budgetPeriod: 'day' });
    expect((await a.chat(secret)).status).toBe(200);
    const refused = await a.chat(secret);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('insufficient_quota');
    expect(refused.headers.get('retry-after')).toBe(secondsUntil(midnight, START)); // 14 hours
    expect(await meterOf(secret, 'spend')).toEqual({
      period: 'day',
      used: HELLO_COST,
      limit: 1,
      remaining: 0,
      resetsAt: midnight,
    });

    clock.time = midnight - 1;
    const late = await a.chat(secret);
    expect(late.status).toBe(429);
    expect(late.headers.get('retry-after')).toBe('1');

    clock.time = midnight;
    expect((await a.chat(secret)).status).toBe(200);
    expect(await meterOf(secret, 'spend')).toEqual({
      period: 'day',
      used: HELLO_COST,
      limit: 1,
      remaining: 0,
      resetsAt: Date.UTC(2026, 10, 24),
    });
    expect((await a.chat(secret)).status).toBe(429);
  });

  it('cuts days at local midnight of the configured time zone (Asia/Shanghai)', async () => {
    await a.settings({ limitsTimeZone: 'Asia/Shanghai' });
    const settings = await a.call<{ limitsTimeZone: string }>('GET', '/api/admin/settings', { token: MASTER });
    expect(settings.body.limitsTimeZone).toBe('Asia/Shanghai');
    // 10:00 UTC is 18:00 in Shanghai; its midnight is 16:00 UTC.
    const shanghaiMidnight = Date.UTC(2026, 10, 22, 16);
    const { secret } = await a.newKey({ budgetMicros: 1, budgetPeriod: 'day' });
    expect((await a.chat(secret)).status).toBe(200);
    const refused = await a.chat(secret);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe(secondsUntil(shanghaiMidnight, START));
    expect(refused.body.error.message).toBe(
      `This API key's daily budget is used up; it resets at ${new Date(shanghaiMidnight).toISOString()}`,
    );
    expect((await meterOf(secret, 'spend'))?.resetsAt).toBe(shanghaiMidnight);

    clock.time = shanghaiMidnight - 1_000; // 23:59:59 in Shanghai, still 15:59:59 UTC
    expect((await a.chat(secret)).status).toBe(429);
    clock.time = shanghaiMidnight + 1_000; // 00:00:01 the next day in Shanghai, the same UTC day
    expect((await a.chat(secret)).status).toBe(200);
    expect(await meterOf(secret, 'spend')).toMatchObject({ used: HELLO_COST, resetsAt: Date.UTC(2026, 10, 23, 16) });
  });

  it('moves the boundary at once when the time zone setting changes', async () => {
    const { secret } = await a.newKey({ budgetMicros: 1, budgetPeriod: 'day' });
    expect((await a.chat(secret)).status).toBe(200);
    expect((await meterOf(secret, 'spend'))?.resetsAt).toBe(Date.UTC(2026, 10, 23));
    await a.settings({ limitsTimeZone: 'America/New_York' });
    // 10:00 UTC is 05:00 in New York (EST, UTC-5): its next midnight is 05:00 UTC tomorrow.
    expect((await meterOf(secret, 'spend'))?.resetsAt).toBe(Date.UTC(2026, 10, 23, 5));
  });

  it('rolls a weekly token quota over on Monday', async () => {
    const monday = Date.UTC(2026, 10, 23); // START is a Sunday
    const { secret } = await a.newKey({ tokenQuota: 1, tokenQuotaPeriod: 'week' });
    expect((await a.chat(secret)).status).toBe(200);
    const refused = await a.chat(secret);
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toMatch(/^This API key's weekly token quota is used up/);
    expect(await meterOf(secret, 'tokens')).toEqual({
      period: 'week',
      used: HELLO_TOKENS,
      limit: 1,
      remaining: 0,
      resetsAt: monday,
    });
    clock.time = monday + 60_000;
    expect((await a.chat(secret)).status).toBe(200);
    expect((await meterOf(secret, 'tokens'))?.resetsAt).toBe(Date.UTC(2026, 10, 30));
  });

  it('rolls a monthly budget over on the first of the month', async () => {
    const december = Date.UTC(2026, 11, 1);
    const { secret } = await a.newKey({ budgetMicros: 1, budgetPeriod: 'month' });
    expect((await a.chat(secret)).status).toBe(200);
    const refused = await a.chat(secret);
    expect(refused.body.error.message).toMatch(/^This API key's monthly budget is used up/);
    expect(refused.headers.get('retry-after')).toBe(secondsUntil(december, START));
    clock.time = Date.UTC(2026, 10, 30, 23, 59);
    expect((await a.chat(secret)).status).toBe(429);
    clock.time = december;
    expect((await a.chat(secret)).status).toBe(200);
    expect((await meterOf(secret, 'spend'))?.resetsAt).toBe(Date.UTC(2027, 0, 1));
  });

  it('never resets a lifetime budget (no Retry-After, no reset time)', async () => {
    const { secret } = await a.newKey({ budgetMicros: 1, budgetPeriod: 'lifetime' });
    expect((await a.chat(secret)).status).toBe(200);
    const refused = await a.chat(secret);
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({
      code: 'insufficient_quota',
      message: "This API key's lifetime budget is used up",
    });
    expect(refused.headers.get('retry-after')).toBeNull();
    expect(await meterOf(secret, 'spend')).toEqual({
      period: 'lifetime',
      used: HELLO_COST,
      limit: 1,
      remaining: 0,
      resetsAt: null,
    });
    clock.time = Date.UTC(2028, 0, 1);
    expect((await a.chat(secret)).status).toBe(429);
  });

  // Spend is counted in the counter of the level's current period only: a key that goes day → month → day
  // comes back to a day counter that missed what was spent while it was monthly. The enforcer rebuilds a
  // level's counter from the log when its period changes.
  it('still knows what was spent today when a key goes from a monthly back to a daily budget', async () => {
    const { secret, key } = await a.newKey({ budgetMicros: 90, budgetPeriod: 'day' });
    const period = async (budgetPeriod: string) =>
      expect((await a.call('PATCH', `/api/keys/${key.id}`, { token: MASTER, body: { budgetPeriod } })).status).toBe(
        200,
      );
    expect((await a.chat(secret)).status).toBe(200); // 48 today
    await period('month');
    expect((await a.chat(secret)).status).toBe(200); // 48 < 90 this month: 96 today
    await period('day');
    expect(await meterOf(secret, 'spend')).toMatchObject({ period: 'day', used: 2 * HELLO_COST, remaining: 0 });
    const refused = await a.chat(secret);
    expect(refused.status).toBe(429);
  });

  it('rolls a user-level daily budget over as well', async () => {
    const member = await register(a.call, uniqueEmail(`roll-${backend}`));
    await a.setLimits('user', member.userId, { budgetMicros: HELLO_COST, budgetPeriod: 'day' });
    const { secret } = await a.newKey({}, member.token);
    expect((await a.chat(secret)).status).toBe(200);
    const refused = await a.chat(secret);
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toMatch(/^Your daily budget is used up/);
    const usage = await a.usage(member.token);
    expect(usage.user?.usage.spend).toEqual({
      period: 'day',
      used: HELLO_COST,
      limit: HELLO_COST,
      remaining: 0,
      resetsAt: Date.UTC(2026, 10, 23),
    });
    clock.time = Date.UTC(2026, 10, 23, 0, 0, 1);
    expect((await a.chat(secret)).status).toBe(200);
  });
});
