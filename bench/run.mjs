#!/usr/bin/env node
// AI Hub benchmark: AI Hub (real pipeline) against a minimal Node reverse proxy, both in front of the same
// fast fake upstream, loaded by autocannon on loopback. See bench/README.md for options.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
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
const pg = flag('pg');
const pin = availableParallelism() >= 2 && !flag('no-pin') && hasTaskset();
const MASTER = 'bench-master-key-0123456789abcdef';

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

function start(script, env, cpu) {
  const cmd = pin ? 'taskset' : process.execPath;
  const argv = pin ? ['-c', String(cpu), process.execPath, ...script] : script;
  const child = spawn(cmd, argv, {
    cwd: root,
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

/** The pid of the node process (under taskset the child is node itself after exec). */
const cpuMicros = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
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

async function main() {
  console.error(
    `[bench] ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, node ${process.version}, pinning ${pin ? 'on' : 'off'}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  if (!flag('no-build')) execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });

  const upstream = start(['bench/upstream.mjs'], {}, 0);
  const upstreamUrl = `http://127.0.0.1:${await waitForPort(upstream)}`;
  const baseline = start(['bench/baseline-proxy.mjs'], { UPSTREAM: upstreamUrl }, 1);
  const baselineUrl = `http://127.0.0.1:${await waitForPort(baseline)}`;

  const dataDir = mkdtempSync(join(tmpdir(), 'aihub-bench-'));
  let databaseUrl;
  let dbName;
  if (pg) {
    dbName = `aihub_bench_${Date.now()}`;
    execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-c', `CREATE DATABASE ${dbName}`], { stdio: 'ignore' });
    databaseUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
  }
  const hubPort = 38_000 + Math.floor(Math.random() * 1000);
  const profileArgs = flag('profile') ? ['--cpu-prof', `--cpu-prof-dir=${join(root, 'bench/profiles')}`] : [];
  const hub = start(
    [...profileArgs, 'bin/aihub.js', 'start'],
    {
      PORT: String(hubPort),
      HOST: '127.0.0.1',
      AIHUB_DATA_DIR: dataDir,
      AIHUB_LOG_LEVEL: 'warn',
      AIHUB_DEMO: 'false',
      AIHUB_MASTER_KEY: MASTER,
      ...(pg ? { DATABASE_URL: databaseUrl, REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' } : {}),
    },
    1,
  );
  const hubUrl = `http://127.0.0.1:${hubPort}`;
  await waitForHttp(`${hubUrl}/ready`);

  // The real pipeline, every check on: a user, a key with limits and an IP allow list, a global IP rule,
  // an OpenAI channel to the fake upstream, a priced model.
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

  const targets = [
    { name: 'baseline', url: baselineUrl, pid: baseline.pid, auth: 'Bearer sk-fake' },
    { name: 'aihub', url: hubUrl, pid: hub.pid, auth: `Bearer ${secret}` },
  ];
  const results = [];
  const hubOk = { count: 0 };
  const rssSeries = [];
  for (const mode of modes) {
    const body = JSON.stringify({
      model: 'bench-model',
      messages: [{ role: 'user', content: 'Say twenty words.' }],
      ...(mode === 'stream' ? { stream: true, stream_options: { include_usage: true } } : {}),
    });
    for (const connections of connectionsList) {
      for (let r = 0; r < repeats; r++) {
        for (const target of targets) {
          const warm = await autocannon({
            url: `${target.url}/v1/chat/completions`,
            method: 'POST',
            headers: { authorization: target.auth, 'content-type': 'application/json' },
            body,
            connections,
            duration: 1,
          });
          if (target.name === 'aihub') hubOk.count += warm['2xx'];
          const cpuBefore = cpuMicros(target.pid);
          const res = await autocannon({
            url: `${target.url}/v1/chat/completions`,
            method: 'POST',
            headers: { authorization: target.auth, 'content-type': 'application/json' },
            body,
            connections,
            duration,
          });
          const cpu = cpuMicros(target.pid) - cpuBefore;
          const ok = res['2xx'];
          if (target.name === 'aihub') hubOk.count += ok + 0;
          results.push({
            mode,
            connections,
            target: target.name,
            rps: res.requests.average,
            p50: res.latency.p50,
            p99: res.latency.p99,
            cpuPerReq: ok > 0 ? cpu / ok : 0,
            errors: res.non2xx + res.errors,
            rss: rssMiB(target.pid),
          });
          if (target.name === 'aihub') rssSeries.push(rssMiB(target.pid));
          console.error(
            `[bench] ${mode} c=${connections} #${r + 1} ${target.name}: ${res.requests.average.toFixed(0)} req/s p50 ${res.latency.p50} ms p99 ${res.latency.p99} ms errors ${res.non2xx + res.errors}`,
          );
        }
      }
    }
  }

  // Zero data loss: stop AI Hub the way an operator would, then count its usage records.
  const hubRss = rssMiB(hub.pid);
  hub.kill('SIGTERM');
  await new Promise((r) => hub.once('exit', r));
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
        dbName,
        '-tAc',
        'select count(*) filter (where status = 200), count(*) from request_logs',
      ],
      { encoding: 'utf8' },
    )
      .trim()
      .split('|');
    rows = { ok: Number(out[0]), all: Number(out[1]) };
    execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-c', `DROP DATABASE ${dbName} WITH (FORCE)`], {
      stdio: 'ignore',
    });
  } else {
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(join(dataDir, 'aihub.db'), { readonly: true });
    rows = db
      .prepare('select sum(case when status = 200 then 1 else 0 end) as ok, count(*) as n from request_logs')
      .get();
    rows = { ok: rows.ok, all: rows.n };
    db.close();
  }
  rmSync(dataDir, { recursive: true, force: true });
  baseline.kill();
  upstream.kill();

  const report = renderReport(results, { hubRss, rssSeries, rows, served: hubOk.count });
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
    `Run ${new Date().toISOString()} · ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()} · node ${process.version} · ${pg ? 'PostgreSQL + Redis' : 'SQLite, memory counters'} · ${duration}s × ${repeats} per cell · pinning ${pin ? 'on' : 'off'} · load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  lines.push('');
  for (const mode of modes) {
    for (const connections of connectionsList) {
      const cell = (target, key) =>
        median(
          results
            .filter((r) => r.mode === mode && r.connections === connections && r.target === target)
            .map((r) => r[key]),
        );
      lines.push(
        `### ${mode === 'stream' ? 'Stream' : 'Non-stream'}, ${connections} connection${connections === 1 ? '' : 's'}`,
      );
      lines.push('');
      lines.push('| target | req/s | p50 ms | p99 ms | CPU µs/req | RSS MiB | errors |');
      lines.push('|---|---|---|---|---|---|---|');
      for (const target of ['baseline', 'aihub']) {
        lines.push(
          `| ${target} | ${cell(target, 'rps').toFixed(0)} | ${cell(target, 'p50').toFixed(2)} | ${cell(target, 'p99').toFixed(2)} | ${cell(target, 'cpuPerReq').toFixed(0)} | ${cell(target, 'rss').toFixed(0)} | ${cell(target, 'errors')} |`,
        );
      }
      const ratio = (key) =>
        cell('baseline', key) > 0 ? (cell('aihub', key) / cell('baseline', key)).toFixed(2) : 'n/a';
      lines.push(
        `| **AI Hub ÷ baseline** | ${ratio('rps')} | ${ratio('p50')} | ${ratio('p99')} | ${ratio('cpuPerReq')} | ${ratio('rss')} | |`,
      );
      lines.push(`| added p50 (ms) | | ${(cell('aihub', 'p50') - cell('baseline', 'p50')).toFixed(2)} | | | | |`);
      lines.push('');
    }
  }
  lines.push(`AI Hub RSS after load: ${extra.hubRss} MiB; RSS after each run: ${extra.rssSeries.join(', ')} MiB.`);
  lines.push(
    `Zero loss: ${extra.rows.all} usage records after shutdown; ${extra.rows.ok} with status 200 for ${extra.served} answers autocannon counted as 2xx (warm-ups included); the other ${extra.rows.all - extra.rows.ok} are requests autocannon cut off at the end of each run (recorded as 499 client_closed).`,
  );
  lines.push('Latency is reported by autocannon at 1 ms resolution, too coarse for the 0.3 ms added-latency target.');
  return lines.join('\n');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
