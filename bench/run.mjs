#!/usr/bin/env node
// AI Hub benchmark: AI Hub (real pipeline) against a minimal Node reverse proxy, both in front of the same
// fast fake upstream, loaded by wrk (or autocannon) on loopback. See bench/README.md for options.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
if (flag('help')) {
  console.log(readFileSync(join(root, 'bench/README.md'), 'utf8'));
  process.exit(0);
}
const quick = flag('quick');
const duration = Number(option('duration', quick ? 3 : 10));
const repeats = Number(option('repeats', quick ? 1 : 3));
const connectionsList = option('connections', '1,50').split(',').map(Number);
const modes = option('only', 'nonstream,stream').split(',');
// cache-hit: one body again and again with `x-aihub-cache: on` (every request after the first is a hit);
// cache-miss: the same header and a new body each request (a lookup that misses, then a store). Builds that do
// not know the header (the baseline proxy, an older reference) just forward these as ordinary requests.
const MODES = { nonstream: 'Non-stream', stream: 'Stream', 'cache-hit': 'Cache hit', 'cache-miss': 'Cache miss' };
for (const mode of modes) if (!MODES[mode]) throw new Error(`--only ${mode}: one of ${Object.keys(MODES).join(', ')}`);
const pg = flag('pg');
const reference = option('reference', undefined);
const heapSnapshot = flag('heap');
// wrk drives a Node server harder than autocannon (which runs in Node itself): prefer it when installed.
const loadGenerator = option('load', hasWrk() ? 'wrk' : 'autocannon');
if (!['wrk', 'autocannon'].includes(loadGenerator)) throw new Error(`--load ${loadGenerator}: wrk or autocannon`);
// Extra node/V8 flags for AI Hub and for the reference (e.g. the same build with other GC settings).
const splitArgs = (text) => (text ? text.split(/\s+/).filter(Boolean) : []);
const nodeArgs = splitArgs(option('node-args', ''));
const referenceNodeArgs = splitArgs(option('reference-node-args', ''));
// Taken before pinning this process to one CPU (which would make it report 1).
const cores = availableParallelism();
const pin = cores >= 2 && !flag('no-pin') && hasTaskset();
const MASTER = 'bench-master-key-0123456789abcdef';
const profileDir = join(root, 'bench/profiles');
// --diagnostic-dir (heap snapshots) does not create the folder; --cpu-prof-dir does.
if (heapSnapshot || flag('profile')) mkdirSync(profileDir, { recursive: true });

function hasWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk --version exits 1 after printing its version
    return error.status === 1;
  }
}

/**
 * One load run with wrk (one thread, `connections` connections); the same result fields as autocannon's
 * that the report reads. Latencies in ms; non-2xx counted from wrk's status errors (status > 399).
 */
function wrkLoad({ url, auth, body, connections, seconds, header = '', unique = false }) {
  return new Promise((resolvePromise, reject) => {
    execFile(
      'wrk',
      ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', join(root, 'bench/wrk-report.lua'), url],
      {
        env: {
          ...process.env,
          BENCH_BODY: body,
          BENCH_AUTH: auth,
          BENCH_HEADER: header,
          BENCH_UNIQUE: unique ? '1' : '0',
        },
        maxBuffer: 1 << 20,
      },
      (error, stdout) => {
        if (error) return reject(error);
        const line = stdout.split('\n').find((l) => l.startsWith('{"requests"'));
        if (!line) return reject(new Error(`wrk printed no result: ${stdout}`));
        const r = JSON.parse(line);
        const socketErrors = r.connectErrors + r.readErrors + r.writeErrors + r.timeouts;
        resolvePromise({
          requests: { average: r.requests / (r.durationUs / 1e6) },
          latency: { p50: r.p50Us / 1000, p99: r.p99Us / 1000 },
          '2xx': r.requests - r.statusErrors,
          non2xx: r.statusErrors,
          errors: socketErrors,
        });
      },
    );
  });
}

function hasTaskset() {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// Load generator (this process) and the fake upstream on CPU 0; the server under test alone on CPU 1.
if (pin) execFileSync('taskset', ['-cp', '0', String(process.pid)], { stdio: 'ignore' });

function start(script, env, cpu, cwd = root) {
  const cmd = pin ? 'taskset' : process.execPath;
  const argv = pin ? ['-c', String(cpu), process.execPath, ...script] : script;
  const child = spawn(cmd, argv, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return child;
}

function waitForPort(child) {
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
}

async function waitForHttp(url, ms = 30_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not come up`);
}

/**
 * CPU time (user + system, µs) of a process, all threads; with `mainThreadOnly`, of its main thread (the
 * event loop) alone. The pid is the node process's (under taskset the child is node itself after exec).
 */
const cpuMicros = (pid, mainThreadOnly = false) => {
  const stat = readFileSync(mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * (1_000_000 / 100);
};
const rssMiB = (pid) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line.split(/\s+/)[1]) / 1024);
};

async function api(base, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = res.status === 204 ? null : await res.json();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** The node flags `npm start` passes in checkout `dir` (the bench runs AI Hub as users do). */
function startFlags(dir) {
  const script = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).scripts?.start ?? '';
  const match = /^node\s+(.*?)\s*bin\/aihub\.js\b/.exec(script);
  return match ? splitArgs(match[1]) : [];
}

/** Start one AI Hub (this checkout, or the built checkout at `dir`) on its own data directory or database. */
async function startHub(name, dir, extraNodeArgs) {
  const dataDir = mkdtempSync(join(tmpdir(), 'aihub-bench-'));
  let databaseUrl;
  let dbName;
  if (pg) {
    dbName = `aihub_bench_${name}_${Date.now()}`;
    execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-c', `CREATE DATABASE ${dbName}`], { stdio: 'ignore' });
    databaseUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
  }
  const port = 38_000 + Math.floor(Math.random() * 1000);
  const profileArgs = flag('profile') ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const heapArgs = heapSnapshot ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${profileDir}`] : [];
  const child = start(
    [...startFlags(dir), ...profileArgs, ...heapArgs, ...extraNodeArgs, 'bin/aihub.js', 'start'],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      AIHUB_DATA_DIR: dataDir,
      AIHUB_LOG_LEVEL: 'warn',
      AIHUB_DEMO: 'false',
      AIHUB_MASTER_KEY: MASTER,
      ...(pg ? { DATABASE_URL: databaseUrl, REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' } : {}),
    },
    1,
    dir,
  );
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/ready`);
  return { name, child, url, dataDir, dbName };
}

/** The real pipeline, every check on: a user, a key with limits and an IP allow list, a global IP rule,
 * an OpenAI channel to the fake upstream, a priced model. Returns the key's secret. */
async function configureHub(hubUrl, upstreamUrl) {
  await api(hubUrl, 'PATCH', '/api/admin/settings', { healthCheckIntervalSeconds: 0 });
  const user = await api(hubUrl, 'POST', '/api/admin/users', {
    email: 'bench@example.com',
    password: 'bench-password-1',
  });
  const { secret } = await api(hubUrl, 'POST', '/api/keys', {
    name: 'bench',
    userId: user.id,
    rpm: 10_000_000,
    tpm: 1_000_000_000,
    budgetMicros: 1_000_000_000_000,
    budgetPeriod: 'month',
    allowedIps: ['127.0.0.0/8', '::1/128'],
  });
  await api(hubUrl, 'POST', '/api/admin/ip-rules', { scope: 'v1', action: 'allow', cidr: '127.0.0.0/8' });
  const channel = await api(hubUrl, 'POST', '/api/admin/channels', {
    name: 'bench',
    type: 'openai',
    baseUrl: `${upstreamUrl}/v1`,
    keys: ['sk-fake'],
  });
  await api(hubUrl, 'POST', '/api/admin/models', {
    name: 'bench-model',
    inputPrice: 1_000_000,
    outputPrice: 2_000_000,
    routes: [{ channelId: channel.id }],
  });
  return secret;
}

/** Ask a hub for a heap snapshot (written to bench/profiles) and wait until it is complete. */
async function takeHeapSnapshot(hub) {
  const before = new Set(readdirSync(profileDir));
  hub.child.kill('SIGUSR2');
  for (let i = 0; i < 300; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const fresh = readdirSync(profileDir).filter((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    if (fresh.length > 0) {
      const file = join(profileDir, fresh[0]);
      const size = readFileSync(file).length;
      await new Promise((r) => setTimeout(r, 1000));
      if (readFileSync(file).length === size) return file;
    }
  }
  return undefined;
}

/** Zero data loss: stop a hub the way an operator would, then count its usage records. */
async function stopAndCount(hub) {
  hub.child.kill('SIGTERM');
  await new Promise((r) => hub.child.once('exit', r));
  let rows;
  if (pg) {
    const out = execFileSync(
      'psql',
      [
        '-h',
        '127.0.0.1',
        '-U',
        'postgres',
        '-d',
        hub.dbName,
        '-tAc',
        'select count(*) filter (where status = 200), count(*) from request_logs',
      ],
      { encoding: 'utf8' },
    )
      .trim()
      .split('|');
    rows = { ok: Number(out[0]), all: Number(out[1]) };
    execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-c', `DROP DATABASE ${hub.dbName} WITH (FORCE)`], {
      stdio: 'ignore',
    });
  } else {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(join(hub.dataDir, 'aihub.db'), { readonly: true });
    const r = db
      .prepare('select sum(case when status = 200 then 1 else 0 end) as ok, count(*) as n from request_logs')
      .get();
    rows = { ok: r.ok ?? 0, all: r.n };
    db.close();
  }
  rmSync(hub.dataDir, { recursive: true, force: true });
  return rows;
}

async function main() {
  console.error(
    `[bench] ${cpus()[0]?.model ?? 'cpu'} × ${cores}, node ${process.version}, load ${loadGenerator}, pinning ${pin ? 'on' : 'off'}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  // The server only (dist/); the web console is not part of the request path.
  if (!flag('no-build'))
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: 'inherit',
    });
  const referenceDir = reference ? resolve(reference) : undefined;
  if (referenceDir && !existsSync(join(referenceDir, 'dist/main.js')))
    throw new Error(`--reference ${reference}: no built AI Hub there (dist/main.js)`);

  const upstream = start(['bench/upstream.mjs'], {}, 0);
  const upstreamUrl = `http://127.0.0.1:${await waitForPort(upstream)}`;
  const baseline = start(['bench/baseline-proxy.mjs'], { UPSTREAM: upstreamUrl }, 1);
  const baselineUrl = `http://127.0.0.1:${await waitForPort(baseline)}`;

  const hubs = [await startHub('aihub', root, nodeArgs)];
  if (referenceDir) hubs.push(await startHub('reference', referenceDir, referenceNodeArgs));
  const targets = [{ name: 'baseline', url: baselineUrl, pid: baseline.pid, auth: 'Bearer sk-fake' }];
  for (const hub of hubs) {
    const secret = await configureHub(hub.url, upstreamUrl);
    targets.push({ name: hub.name, url: hub.url, pid: hub.child.pid, auth: `Bearer ${secret}`, hub });
  }
  // What a configured hub holds before any /v1 load (the control plane's share shows here).
  await new Promise((r) => setTimeout(r, 1000));
  const startRss = new Map(hubs.map((h) => [h.name, rssMiB(h.child.pid)]));

  const results = [];
  const served = new Map(hubs.map((h) => [h.name, 0]));
  const rssSeries = new Map(hubs.map((h) => [h.name, []]));
  for (const mode of modes) {
    const body = JSON.stringify({
      model: 'bench-model',
      messages: [{ role: 'user', content: 'Say twenty words.' }],
      ...(mode === 'stream' ? { stream: true, stream_options: { include_usage: true } } : {}),
    });
    const cacheMode = mode.startsWith('cache-');
    if (cacheMode && loadGenerator !== 'wrk') throw new Error(`--only ${mode} needs wrk (a new body per request)`);
    for (const connections of connectionsList) {
      for (let r = 0; r < repeats; r++) {
        // The hubs take turns going first: the slot right after the baseline measured ~10 µs/req more in
        // stream runs whichever build sat in it (2026-12-07), so a fixed order would favour the second hub.
        const order = r % 2 === 0 ? targets : [targets[0], ...targets.slice(1).reverse()];
        for (const target of order) {
          const load = (seconds) =>
            loadGenerator === 'wrk'
              ? wrkLoad({
                  url: `${target.url}/v1/chat/completions`,
                  auth: target.auth,
                  body,
                  connections,
                  seconds,
                  header: cacheMode ? 'x-aihub-cache: on' : '',
                  unique: mode === 'cache-miss',
                })
              : autocannon({
                  url: `${target.url}/v1/chat/completions`,
                  method: 'POST',
                  headers: { authorization: target.auth, 'content-type': 'application/json' },
                  body,
                  connections,
                  duration: seconds,
                });
          const warm = await load(1);
          if (target.hub) served.set(target.name, served.get(target.name) + warm['2xx']);
          const cpuBefore = cpuMicros(target.pid);
          const loopBefore = cpuMicros(target.pid, true);
          const res = await load(duration);
          const cpu = cpuMicros(target.pid) - cpuBefore;
          const loopCpu = cpuMicros(target.pid, true) - loopBefore;
          const ok = res['2xx'];
          if (target.hub) served.set(target.name, served.get(target.name) + ok);
          results.push({
            mode,
            connections,
            target: target.name,
            rps: res.requests.average,
            p50: res.latency.p50,
            p99: res.latency.p99,
            // Closed loop: each connection has one request in flight, so the mean latency is
            // connections / throughput, at microsecond resolution (autocannon's percentiles are whole ms).
            meanMs: res.requests.average > 0 ? (connections * 1000) / res.requests.average : 0,
            cpuPerReq: ok > 0 ? cpu / ok : 0,
            loopCpuPerReq: ok > 0 ? loopCpu / ok : 0,
            errors: res.non2xx + res.errors,
            rss: rssMiB(target.pid),
          });
          if (target.hub) rssSeries.get(target.name).push(rssMiB(target.pid));
          console.error(
            `[bench] ${mode} c=${connections} #${r + 1} ${target.name}: ${res.requests.average.toFixed(0)} req/s p50 ${res.latency.p50} ms p99 ${res.latency.p99} ms CPU ${(ok > 0 ? cpu / ok : 0).toFixed(0)} µs/req (loop ${(ok > 0 ? loopCpu / ok : 0).toFixed(0)}) errors ${res.non2xx + res.errors}`,
          );
        }
      }
    }
  }

  const finalRss = new Map(hubs.map((h) => [h.name, rssMiB(h.child.pid)]));
  const snapshots = new Map();
  if (heapSnapshot) for (const hub of hubs) snapshots.set(hub.name, await takeHeapSnapshot(hub));
  const rows = new Map();
  for (const hub of hubs) rows.set(hub.name, await stopAndCount(hub));
  baseline.kill();
  upstream.kill();

  const report = renderReport(results, {
    hubs: hubs.map((h) => h.name),
    startRss,
    finalRss,
    rssSeries,
    rows,
    served,
    snapshots,
    referenceDir,
  });
  console.log(report);
  writeFileSync(join(root, 'bench', pg ? 'last-run-pg.md' : 'last-run.md'), report);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function renderReport(results, extra) {
  const lines = [];
  lines.push(
    `Run ${new Date().toISOString()} · ${cpus()[0]?.model ?? 'cpu'} × ${cores} · node ${process.version} · ${pg ? 'PostgreSQL + Redis' : 'SQLite, memory counters'} · load ${loadGenerator} · ${duration}s × ${repeats} per cell · pinning ${pin ? 'on' : 'off'} · load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  if (extra.referenceDir)
    lines.push(`Reference: the AI Hub built in ${extra.referenceDir}, run interleaved with this one.`);
  lines.push('');
  const targets = ['baseline', ...extra.hubs];
  for (const mode of modes) {
    for (const connections of connectionsList) {
      const cell = (target, key) =>
        median(
          results
            .filter((r) => r.mode === mode && r.connections === connections && r.target === target)
            .map((r) => r[key]),
        );
      lines.push(`### ${MODES[mode]}, ${connections} connection${connections === 1 ? '' : 's'}`);
      lines.push('');
      lines.push('| target | req/s | p50 ms | p99 ms | mean ms | CPU µs/req | loop µs/req | RSS MiB | errors |');
      lines.push('|---|---|---|---|---|---|---|---|---|');
      for (const target of targets) {
        lines.push(
          `| ${target} | ${cell(target, 'rps').toFixed(0)} | ${cell(target, 'p50').toFixed(2)} | ${cell(target, 'p99').toFixed(2)} | ${cell(target, 'meanMs').toFixed(3)} | ${cell(target, 'cpuPerReq').toFixed(0)} | ${cell(target, 'loopCpuPerReq').toFixed(0)} | ${cell(target, 'rss').toFixed(0)} | ${cell(target, 'errors')} |`,
        );
      }
      for (const hub of extra.hubs) {
        const ratio = (key) =>
          cell('baseline', key) > 0 ? (cell(hub, key) / cell('baseline', key)).toFixed(2) : 'n/a';
        lines.push(
          `| **${hub} ÷ baseline** | ${ratio('rps')} | ${ratio('p50')} | ${ratio('p99')} | ${ratio('meanMs')} | ${ratio('cpuPerReq')} | ${ratio('loopCpuPerReq')} | ${ratio('rss')} | |`,
        );
        lines.push(
          `| ${hub}: added latency (ms) | | ${(cell(hub, 'p50') - cell('baseline', 'p50')).toFixed(2)} | | ${(cell(hub, 'meanMs') - cell('baseline', 'meanMs')).toFixed(3)} | | | | |`,
        );
      }
      lines.push('');
    }
  }
  // What the response cache adds on a miss: a cache-miss request's CPU over a plain non-stream one's, per hub.
  if (modes.includes('cache-miss') && modes.includes('nonstream')) {
    for (const connections of connectionsList) {
      const cpu = (mode, hub) =>
        median(
          results
            .filter((r) => r.mode === mode && r.connections === connections && r.target === hub)
            .map((r) => r.cpuPerReq),
        );
      for (const hub of extra.hubs)
        lines.push(
          `${hub}, ${connections} connection(s): a cache miss costs ${(cpu('cache-miss', hub) - cpu('nonstream', hub)).toFixed(0)} µs CPU over a plain non-stream request (lookup + store; an older build without the cache shows only noise here).`,
        );
    }
    lines.push('');
  }
  for (const hub of extra.hubs) {
    const rows = extra.rows.get(hub);
    lines.push(
      `${hub}: RSS at start (configured, before load) ${extra.startRss.get(hub)} MiB; after load ${extra.finalRss.get(hub)} MiB; after each run: ${extra.rssSeries.get(hub).join(', ')} MiB.`,
    );
    lines.push(
      `${hub}: zero loss: ${rows.all} usage records after shutdown; ${rows.ok} with status 200 for ${extra.served.get(hub)} answers ${loadGenerator} counted as 2xx (warm-ups included; the server may count more: answers it finished that the load generator closed before reading at the end of a run); the other ${rows.all - rows.ok} are requests ${loadGenerator} cut off at the end of each run (recorded as 499 client_closed).`,
    );
    if (extra.snapshots.get(hub)) lines.push(`${hub}: heap snapshot after the runs: ${extra.snapshots.get(hub)}`);
  }
  if (loadGenerator === 'autocannon')
    lines.push(
      'Latency percentiles are reported by autocannon at 1 ms resolution, too coarse for the added-latency target; the mean (connections ÷ req/s, closed loop) is exact to the microsecond.',
    );
  return lines.join('\n');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
