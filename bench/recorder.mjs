#!/usr/bin/env node
// Micro-benchmark of the request-log path on SQLite: N rows through UsageRecorder (the writer thread), CPU per
// row of the main thread and of the whole process. Runs the compiled code in dist/ (or DIR's dist/).
//   node bench/recorder.mjs [rows=50000] [--dir DIR] [--rate ROWS_PER_MS]
// --rate feeds rows as a server would (that many per millisecond, on timers) instead of all at once.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const rows = Number(args.find((a) => /^\d+$/.test(a)) ?? 50_000);
const dir = resolve(option('dir', fileURLToPath(new URL('..', import.meta.url))));
const rate = Number(option('rate', 0));
const load = (path) => import(pathToFileURL(join(dir, 'dist', path)).href);
const { openDatabase } = await load('infra/db/client.js');
const { migrateToLatest } = await load('infra/db/migrate.js');
const { UsageRecorder } = await load('modules/usage/recorder.js');

/** CPU seconds of the main thread (its /proc stat: utime + stime, in clock ticks). */
function mainThreadCpuMs() {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

const dataDir = mkdtempSync(join(tmpdir(), 'aihub-recorder-'));
const database = openDatabase({ dataDir });
await migrateToLatest(database.db);
const recorder = new UsageRecorder(database.db, { sqliteFile: database.location });
const at = Date.now();
const row = (i) => ({
  id: `req_${String(i).padStart(26, '0')}`,
  at: at + i,
  user_id: 'usr_01jd5x0z9q7w3m8k2p4r6t8v0x',
  key_id: null,
  org_id: null,
  team_id: null,
  channel_id: 'chn_01jd5x0z9q7w3m8k2p4r6t8v0x',
  model: 'bench-model',
  upstream_model: 'gpt-4o-mini',
  endpoint: 'chat',
  stream: i % 2,
  status: 200,
  error_code: null,
  prompt_tokens: 12,
  completion_tokens: 20,
  cached_tokens: 0,
  reasoning_tokens: 0,
  estimated: 0,
  cost_micros: 52,
  latency_ms: 3,
  ttft_ms: 1,
  client_ip: '127.0.0.1',
  attempts: null,
  request_body: null,
  response_body: null,
});
// Warm up: the writer thread and its statements.
for (let i = 0; i < 1000; i++) recorder.record(row(-1000 + i));
await recorder.flush();

const cpu0 = process.cpuUsage();
const main0 = mainThreadCpuMs();
const t0 = performance.now();
if (rate > 0) {
  let i = 0;
  await new Promise((done) => {
    const tick = () => {
      for (let n = 0; n < rate && i < rows; n++) recorder.record(row(i++));
      if (i < rows) setTimeout(tick, 1);
      else done();
    };
    tick();
  });
} else {
  for (let i = 0; i < rows; i++) recorder.record(row(i));
}
await recorder.flush();
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const main = mainThreadCpuMs() - main0;
await recorder.close();
await database.close();
rmSync(dataDir, { recursive: true, force: true });
const perRow = (ms) => ((ms * 1000) / rows).toFixed(2);
console.log(
  `${rows} rows in ${wall.toFixed(0)} ms: all threads ${perRow((cpu.user + cpu.system) / 1000)} µs/row, main thread ${perRow(main)} µs/row`,
);
