#!/usr/bin/env node
/**
 * Hot-path cost of the metrics hooks, per request (issue 20: at most 2 µs).
 *
 * Runs the data plane's request ledger through one request's stage boundaries — open, one upstream attempt
 * (start, end), output writes, settle with tokens and cost — many times over, once with observability off
 * (the no-op observer) and once with the Prometheus observer, interleaved; the difference per request is the
 * hooks' cost. A request here is a stream of `--chunks` output writes (time to first token and inter-token
 * latency are observed) spread over a few models and channels, as a real mix would be.
 *
 *   npx tsc -p tsconfig.build.json && node bench/metrics.mjs [--requests N] [--rounds R] [--chunks C]
 *
 * Imports the compiled server from dist/ (built by the command above, or by `npm run build`).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '7' },
    chunks: { type: 'string', default: '20' },
  },
});
const REQUESTS = Number(values.requests);
const ROUNDS = Number(values.rounds);
const CHUNKS = Number(values.chunks);

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
if (!existsSync(`${dist}observability/metrics.js`)) {
  console.error('dist/ is not built: run `npx tsc -p tsconfig.build.json` first');
  process.exit(1);
}
const { RequestLedger } = await import(`${dist}gateway/pipeline/ledger.js`);
const { NOOP_OBSERVER } = await import(`${dist}gateway/observer.js`);
const { unknownModel } = await import(`${dist}gateway/catalog.js`);
const { Metrics } = await import(`${dist}observability/metrics.js`);

const sink = { expect() {}, fulfil() {}, track() {}, record() {} };
const clock = { now: () => 1_700_000_000_000 };
const caller = {
  keyId: 'key_1',
  userId: 'usr_1',
  orgId: 'org_1',
  teamId: null,
  allowedModels: null,
  modelLimits: [],
  allowedIps: null,
  keyLimits: null,
};
const models = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet', 'deepseek-chat'].map((name, i) => ({
  ...unknownModel(name),
  id: `mdl_${i}`,
  active: true,
  prices: { input: 2_500_000, output: 10_000_000, cachedInput: 1_250_000 },
}));
const channels = ['openai-a', 'openai-b', 'anthropic', 'deepseek'].map((name, i) => ({
  id: `chn_${i}`,
  name,
  type: ['openai', 'openai', 'anthropic', 'deepseek'][i],
}));
const tokens = { prompt: 1200, completion: 340, cached: 600, reasoning: 0, estimated: false };

/** One request through the ledger and the observer's hooks; returns nothing (the work is the point). */
function request(observer, i) {
  const model = models[i & 3];
  const channel = channels[(i >> 2) & 3];
  const ledger = new RequestLedger(
    { requestId: 'req_1', caller, model, endpoint: 'chat', stream: true, clientIp: '127.0.0.1' },
    sink,
    clock,
    observer,
  );
  ledger.useTarget(channel, model.name, model);
  observer.attemptStarted(ledger, channel, model.name);
  for (let c = 0; c < CHUNKS; c++) ledger.markFirstToken();
  ledger.settle(200, null, tokens);
  ledger.attemptOver();
  observer.attemptEnded(ledger, channel, { status: 200, upstreamStatus: 200, errorCode: null, ms: 12 });
}

function run(observer) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS; i++) request(observer, i);
  return Number(process.hrtime.bigint() - start) / REQUESTS; // ns per request
}

const metrics = new Metrics({ byOrganization: () => false });
const observed = metrics.requests;
// Warm up both paths (JIT), then interleave the measured rounds.
run(NOOP_OBSERVER);
run(observed);
const off = [];
const on = [];
for (let r = 0; r < ROUNDS; r++) {
  off.push(run(NOOP_OBSERVER));
  on.push(run(observed));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const offNs = median(off);
const onNs = median(on);
const text = await metrics.render();
const families = new Set(
  text.body
    .split('\n')
    .filter((l) => l.startsWith('# TYPE aihub_'))
    .map((l) => l.split(' ')[2]),
);
console.log(`node ${process.version} · ${REQUESTS} requests × ${ROUNDS} rounds · ${CHUNKS} output writes each`);
console.log(`ledger with observability off: ${(offNs / 1000).toFixed(3)} µs/request (median)`);
console.log(`ledger with Prometheus metrics: ${(onNs / 1000).toFixed(3)} µs/request (median)`);
console.log(`metrics hooks: ${((onNs - offNs) / 1000).toFixed(3)} µs/request (target ≤ 2 µs)`);
const best = (xs) => Math.min(...xs);
console.log(
  `fastest rounds (least disturbed by other load): off ${(best(off) / 1000).toFixed(3)}, on ${(best(on) / 1000).toFixed(3)}: hooks ${((best(on) - best(off)) / 1000).toFixed(3)} µs/request`,
);
console.log(`rounds off: ${off.map((n) => (n / 1000).toFixed(3)).join(', ')}`);
console.log(`rounds on:  ${on.map((n) => (n / 1000).toFixed(3)).join(', ')}`);
console.log(`(${families.size} aihub_ families rendered)`);
