#!/usr/bin/env node
// A large batch with constant memory: AI Hub (the compiled dist/, started as `npm start` starts it, on a fresh
// SQLite data directory) runs an N-line JSONL batch (default 10 000) uploaded through POST /v1/files against the
// fast fake upstream (bench/upstream.mjs). The hub's RSS is sampled every 100 ms from /proc; the result is the
// growth from just before the batch is created to the peak while it runs (target < 50 MiB), and lines/s.
// Batch pacing is raised for the bench (AIHUB_BATCH_RPS, AIHUB_BATCH_CONCURRENCY; see the options).
//   npx tsc -p tsconfig.build.json && node bench/batch.mjs [lines=10000] [--rps 5000] [--concurrency 32]
//     [--dir DIR] [--node-args "FLAGS"] [--heap]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const count = Number(args.find((a) => /^\d+$/.test(a)) ?? 10_000);
const rps = option('rps', '5000');
const concurrency = option('concurrency', '32');
const dir = resolve(option('dir', fileURLToPath(new URL('..', import.meta.url))));
const root = fileURLToPath(new URL('..', import.meta.url));
const heap = args.includes('--heap');
const extraNodeArgs = [
  ...option('node-args', '').split(/\s+/).filter(Boolean),
  ...(heap ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${join(root, 'bench/profiles')}`] : []),
];
const ADMIN = { email: 'bench@example.com', password: 'bench-password-1' };
const MODEL = 'bench-model';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rssMiB = (pid) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) / 1024;
};

// The node flags of `npm start` (package.json), as users run it.
const startScript = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts.start;
const nodeFlags = startScript.split(/\s+/).filter((a) => a.startsWith('--'));

const upstream = spawn(process.execPath, [join(root, 'bench/upstream.mjs')], {
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
});
const upstreamPort = await new Promise((done) => upstream.once('message', (m) => done(m.port)));

const dataDir = mkdtempSync(join(tmpdir(), 'aihub-bench-batch-'));
const port = 20_000 + Math.floor(Math.random() * 20_000);
const hub = spawn(process.execPath, [...nodeFlags, ...extraNodeArgs, join(dir, 'dist/main.js'), 'start'], {
  cwd: dir,
  env: {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AIHUB_'))),
    AIHUB_DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    AIHUB_LOG_LEVEL: 'warn',
    AIHUB_DEMO: 'false',
    AIHUB_JOBS: 'embedded',
    AIHUB_ADMIN_EMAIL: ADMIN.email,
    AIHUB_ADMIN_PASSWORD: ADMIN.password,
    AIHUB_BATCH_RPS: rps,
    AIHUB_BATCH_CONCURRENCY: concurrency,
    AIHUB_JOBS_POLL_MS: '100',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const base = `http://127.0.0.1:${port}`;

async function api(method, path, token, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

try {
  for (let up = false, until = Date.now() + 60_000; !up; await sleep(200)) {
    if (Date.now() > until || hub.exitCode !== null) throw new Error('AI Hub did not start');
    up = await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    );
  }
  const { accessToken: token } = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(ADMIN),
  }).then((r) => r.json());
  const channel = await api('POST', '/api/admin/channels', token, {
    name: 'bench',
    type: 'openai',
    baseUrl: `http://127.0.0.1:${upstreamPort}/v1`,
    keys: ['sk-bench'],
  });
  await api('POST', '/api/admin/models', token, {
    name: MODEL,
    inputPrice: 1_000_000,
    outputPrice: 2_000_000,
    routes: [{ channelId: channel.id }],
  });
  const { secret } = await api('POST', '/api/keys', token, { name: 'bench' });

  const lines = [];
  for (let i = 0; i < count; i++)
    lines.push(
      JSON.stringify({
        custom_id: `line-${i}`,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model: MODEL, messages: [{ role: 'user', content: `Question number ${i}: say hi.` }], max_tokens: 20 },
      }),
    );
  const form = new FormData();
  form.append('purpose', 'batch');
  form.append('file', new Blob([`${lines.join('\n')}\n`], { type: 'application/jsonl' }), 'bench.jsonl');
  const rssBeforeUpload = rssMiB(hub.pid);
  const file = await fetch(`${base}/v1/files`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secret}` },
    body: form,
  }).then((r) => r.json());
  if (!file.id) throw new Error(`upload failed: ${JSON.stringify(file)}`);

  // Let the upload's garbage go before the baseline.
  await sleep(1_000);
  const baseline = rssMiB(hub.pid);
  // --heap: a heap snapshot now and one at 90 % of the lines (bench/profiles/), to see what grows.
  if (heap) hub.kill('SIGUSR2');
  let snapped = !heap;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMiB(hub.pid));
  }, 100);
  const load = loadavg()[0];
  const t0 = performance.now();
  const created = await api('POST', '/v1/batches', secret, {
    input_file_id: file.id,
    endpoint: '/v1/chat/completions',
    completion_window: '24h',
  });
  let batch = created;
  let lastPrint = 0;
  while (!['completed', 'failed', 'cancelled', 'expired'].includes(batch.status)) {
    await sleep(250);
    batch = await api('GET', `/v1/batches/${created.id}`, secret);
    if (!snapped && batch.request_counts.completed >= count * 0.9) {
      snapped = true;
      hub.kill('SIGUSR2');
    }
    if (performance.now() - lastPrint > 5_000) {
      lastPrint = performance.now();
      const done = batch.request_counts.completed + batch.request_counts.failed;
      console.error(`  ${done}/${count} lines, RSS ${rssMiB(hub.pid).toFixed(0)} MiB`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const after = rssMiB(hub.pid);
  const output = await fetch(`${base}/v1/files/${batch.output_file_id}/content`, {
    headers: { authorization: `Bearer ${secret}` },
  }).then((r) => r.text());
  const outputLines = output.split('\n').filter(Boolean).length;
  const result = {
    lines: count,
    status: batch.status,
    requestCounts: batch.request_counts,
    outputLines,
    rps: Number(rps),
    concurrency: Number(concurrency),
    seconds: Number(seconds.toFixed(1)),
    linesPerSecond: Math.round(count / seconds),
    rssMiB: {
      beforeUpload: Math.round(rssBeforeUpload),
      baseline: Math.round(baseline),
      peak: Math.round(peak),
      after: Math.round(after),
      growth: Math.round(peak - baseline),
    },
    growthUnder50MiB: peak - baseline < 50,
    loadAverage1m: Number(load.toFixed(2)),
  };
  console.log(JSON.stringify(result, null, 2));
  if (batch.status !== 'completed' || outputLines !== count) process.exitCode = 1;
} finally {
  hub.kill('SIGTERM');
  await new Promise((r) => (hub.exitCode !== null ? r() : hub.once('exit', r)));
  upstream.kill();
  rmSync(dataDir, { recursive: true, force: true });
}
