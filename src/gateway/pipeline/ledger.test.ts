import { describe, expect, it } from 'vitest';
import type { RequestLogsTable } from '../../infra/db/schema.js';
import type { CatalogChannel } from '../catalog.js';
import { unknownModel } from '../catalog.js';
import { type GatewayObserver, NOOP_OBSERVER } from '../observer.js';
import type { UsageSink } from '../ports.js';
import { RequestLedger } from './ledger.js';

/** A recorder that keeps rows and tracked promises in memory. */
function fakeRecorder() {
  const rows: RequestLogsTable[] = [];
  const tracked: Array<Promise<void>> = [];
  const errors: unknown[] = [];
  /** Rows announced (ledger opened) and handed over (settled): a shutdown waits for the difference. */
  const counts = { expected: 0, fulfilled: 0 };
  const recorder = {
    record: (row: RequestLogsTable) => rows.push(row),
    track: (pending: Promise<void>) => tracked.push(pending.catch((error: unknown) => void errors.push(error))),
    expect: () => void counts.expected++,
    fulfil: () => void counts.fulfilled++,
  } as unknown as UsageSink;
  return { recorder, rows, errors, counts, settled: () => Promise.all(tracked) };
}

const caller = {
  keyId: 'key_1',
  userId: 'usr_1',
  orgId: null,
  teamId: null,
  allowedModels: null,
  modelLimits: [],
  channelLimits: [],
  allowedIps: null,
  keyLimits: null,
  responseCache: false,
};
const model = {
  ...unknownModel('gpt-4o'),
  active: true,
  prices: { input: 2_000_000, output: 8_000_000, cachedInput: null },
};

function ledger(recorder: UsageSink): RequestLedger {
  return new RequestLedger(
    { requestId: 'req_1', caller, model, endpoint: 'chat', stream: true, clientIp: '127.0.0.1' },
    recorder,
    { now: () => 1_000 },
  );
}

describe('RequestLedger.settle', () => {
  it('records once, pricing the tokens; a second settle is ignored', () => {
    const { recorder, rows } = fakeRecorder();
    const l = ledger(recorder);
    l.settle(200, null, { prompt: 1_000_000, completion: 1_000_000, cached: 0, reasoning: 0, estimated: false });
    l.settle(500, 'internal_error');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: 'req_1', status: 200, prompt_tokens: 1_000_000, cost_micros: 10_000_000 });
  });

  it('announces its row when opened and hands it over once on settle (what a shutdown waits for)', () => {
    const { recorder, counts } = fakeRecorder();
    const l = ledger(recorder);
    expect(counts).toEqual({ expected: 1, fulfilled: 0 });
    l.settle(200, null, new Promise(() => undefined));
    l.settle(500, 'internal_error');
    // A count still running is tracked by the recorder (its flush waits for it): handed over already.
    expect(counts).toEqual({ expected: 1, fulfilled: 1 });
  });

  it('takes tokens still being counted: the row follows when the count arrives, with the latency at settle', async () => {
    const { recorder, rows, settled } = fakeRecorder();
    const l = ledger(recorder);
    let deliver: (n: {
      prompt: number;
      completion: number;
      cached: number;
      reasoning: number;
      estimated: boolean;
    }) => void = () => undefined;
    l.settle(499, 'client_closed', new Promise((resolve) => (deliver = resolve)));
    expect(l.settled).toBe(true);
    expect(rows).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 30));
    deliver({ prompt: 10, completion: 5, cached: 0, reasoning: 0, estimated: true });
    await settled();
    expect(rows[0]).toMatchObject({ status: 499, error_code: 'client_closed', prompt_tokens: 10, estimated: 1 });
    expect(rows[0]?.latency_ms).toBeLessThan(30);
  });

  it('a count that fails still leaves the row (no tokens, marked estimated) and reports the error', async () => {
    const { recorder, rows, errors, settled } = fakeRecorder();
    ledger(recorder).settle(200, null, Promise.reject(new Error('tokenizer gone')));
    await settled();
    expect(rows[0]).toMatchObject({
      status: 200,
      prompt_tokens: 0,
      completion_tokens: 0,
      cost_micros: 0,
      estimated: 1,
    });
    expect(String(errors[0])).toMatch(/tokenizer gone/);
  });
});

describe('RequestLedger: what observability reads', () => {
  const channel = { id: 'chn_1', name: 'up' } as unknown as CatalogChannel;
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  function observed(recorder: UsageSink) {
    const calls: string[] = [];
    const seen: { overheadMs?: number; interTokenMs?: number | null; cost?: number } = {};
    const observer: GatewayObserver = {
      ...NOOP_OBSERVER,
      opened: () => void calls.push('opened'),
      settling: (l, status) => {
        calls.push(`settling ${status}`);
        seen.overheadMs = l.overheadMs;
        seen.interTokenMs = l.interTokenMs;
      },
      settled: (_l, r) => {
        calls.push(`settled ${r.status}`);
        seen.cost = r.costMicros;
      },
    };
    const l = new RequestLedger(
      { requestId: 'req_2', caller, model, endpoint: 'chat', stream: true, clientIp: '127.0.0.1' },
      recorder,
      { now: () => 1_000 },
      observer,
    );
    return { l, calls, seen };
  }

  it('tells the observer once each: opened, settling, settled (with the billed cost)', () => {
    const { recorder } = fakeRecorder();
    const { l, calls, seen } = observed(recorder);
    l.settle(200, null, { prompt: 1_000_000, completion: 0, cached: 0, reasoning: 0, estimated: false });
    l.settle(500, 'internal_error');
    expect(calls).toEqual(['opened', 'settling 200', 'settled 200']);
    expect(seen.cost).toBe(2_000_000);
  });

  it('counts time on the upstream apart from its own, and spaces output writes over the answer', async () => {
    const { recorder } = fakeRecorder();
    const { l, seen } = observed(recorder);
    l.useTarget(channel, 'm', model);
    await wait(30);
    l.markFirstToken();
    l.markFirstToken();
    l.markFirstToken();
    await wait(20);
    l.settle(200, null);
    l.attemptOver();
    // Nearly all of the ~50 ms was the upstream's (the attempt was open): the overhead is small.
    expect(seen.overheadMs).toBeGreaterThanOrEqual(0);
    expect(seen.overheadMs).toBeLessThan(15);
    // Three writes from ~30 ms to the end at ~50 ms: two gaps of ~10 ms.
    expect(seen.interTokenMs).toBeGreaterThanOrEqual(8);
    expect(seen.interTokenMs).toBeLessThan(40);
    expect(l.upstreamMs).toBeGreaterThanOrEqual(45);
  });

  it('without an upstream attempt every millisecond is overhead; one write has no spacing', async () => {
    const { recorder } = fakeRecorder();
    const { l, seen } = observed(recorder);
    l.markFirstToken();
    await wait(20);
    l.settle(200, null);
    expect(seen.overheadMs).toBeGreaterThanOrEqual(15);
    expect(seen.interTokenMs).toBeNull();
  });
});
