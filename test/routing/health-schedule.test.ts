/**
 * Changing `healthCheckIntervalSeconds` through the settings API takes effect at once, as the settings docs
 * promise: turning probes on probes now (not when a timer armed under the old value fires, up to a minute
 * later), a shorter interval applies from the last probe, and 0 stops them.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startBackground } from '../../src/services.js';
import { type Call, client, register, startTestApp, type TestApp } from '../support/app.js';
import { ProgrammableUpstream } from '../support/fakes/programmable-upstream.js';

const up = new ProgrammableUpstream();
let t: TestApp;
let call: Call;
let admin: string;
let stopBackground: () => Promise<void>;

const setProbeInterval = async (seconds: number) => {
  const res = await call('PATCH', '/api/admin/settings', {
    token: admin,
    body: { healthCheckIntervalSeconds: seconds },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait (up to `ms`) until the upstream has received more than `count` probes; return how many it has. */
async function probesAfter(count: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  while (up.chatCount <= count && Date.now() < deadline) await sleep(20);
  return up.chatCount;
}

beforeAll(async () => {
  await up.start();
  t = await startTestApp();
  call = client(t.url);
  admin = (await register(call, 'health-schedule@example.com')).token;
  await setProbeInterval(0);
  const channel = await call<{ id: string }>('POST', '/api/admin/channels', {
    token: admin,
    body: { name: 'probed', type: 'openai', baseUrl: up.url, keys: ['sk-probed'] },
  });
  expect(channel.status, JSON.stringify(channel.body)).toBe(201);
  // A probe asks for the first model routed to the channel.
  const model = await call('POST', '/api/admin/models', {
    token: admin,
    body: { name: 'probed-model', routes: [{ channelId: channel.body.id }] },
  });
  expect(model.status, JSON.stringify(model.body)).toBe(201);
  stopBackground = startBackground(t.services);
});

afterAll(async () => {
  await stopBackground?.();
  await t?.close();
  await up.close();
});

it('applies a change of the health-check interval at once: on, shorter, off', async () => {
  await sleep(300);
  expect(up.chatCount).toBe(0); // off: no probes

  // 0 → 60: the first probe comes now, not a minute later.
  await setProbeInterval(60);
  expect(await probesAfter(0, 2_000)).toBe(1);

  // 60 → 1: the next probe is due a second after the last one, not when the 60 s timer fires.
  await setProbeInterval(1);
  const afterShorter = await probesAfter(1, 2_500);
  expect(afterShorter).toBeGreaterThanOrEqual(2);

  // 1 → 0: probes stop.
  await setProbeInterval(0);
  await sleep(200); // a probe already on its way may still arrive
  const stopped = up.chatCount;
  await sleep(1_500);
  expect(up.chatCount).toBe(stopped);
});
