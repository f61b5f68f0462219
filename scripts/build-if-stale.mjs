#!/usr/bin/env node
// Build the server (tsc → dist/) and the console (vite → dist/web/) only when their sources changed since
// the last build, so `npm start` restarts in about a second. `--force` builds both regardless (`prepare`).
//
// The console is built into a temporary directory and renamed into place, so dist/web is always one
// complete build: a running server never sees a half-written one. The previous build's hashed assets are
// carried into the new one, so a browser that loaded the previous index.html still gets its chunks.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = process.env.AIHUB_BUILD_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const WEB_OUT = join(DIST, 'web');
const SERVER_STAMP = join(DIST, '.server-build');
/** Inside dist/web, so it moves with the build it describes. */
const CONSOLE_STAMP = '.console-build';
/** The assets a build produced itself (not the ones it carried over from the build before). */
const OWN_ASSETS = '.own-assets.json';
const LOCK = join(DIST, '.build-lock');

/** Newest mtime of the files and directories (a deleted file changes its directory's mtime) under paths. */
function newestMtime(paths, skip = () => false) {
  let newest = 0;
  const visit = (path) => {
    let st;
    try {
      st = statSync(path);
    } catch {
      return;
    }
    newest = Math.max(newest, st.mtimeMs);
    if (!st.isDirectory()) return;
    for (const name of readdirSync(path)) {
      const child = join(path, name);
      if (!skip(child)) visit(child);
    }
  };
  for (const path of paths) visit(path);
  return newest;
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

const serverSources = () =>
  newestMtime(
    ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((p) => join(ROOT, p)),
    (path) => path.endsWith('.test.ts'),
  );
const consoleSources = () =>
  newestMtime(['web', 'package-lock.json'].map((p) => join(ROOT, p)));

export function serverIsStale() {
  return !existsSync(join(DIST, 'main.js')) || mtime(SERVER_STAMP) < serverSources();
}

export function consoleIsStale() {
  return !existsSync(join(WEB_OUT, 'index.html')) || mtime(join(WEB_OUT, CONSOLE_STAMP)) < consoleSources();
}

/** A stamp whose mtime is when the build started: a source saved during the build still counts as newer. */
function stamp(path, startedAt) {
  writeFileSync(path, `${new Date(startedAt).toISOString()}\n`);
  utimesSync(path, startedAt / 1000, startedAt / 1000);
}

function run(args) {
  const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`build failed: ${args.join(' ')}`);
}

function buildServer() {
  const startedAt = Date.now();
  run([join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
  stamp(SERVER_STAMP, startedAt);
}

function listFiles(dir) {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

function buildConsole() {
  const startedAt = Date.now();
  const tmp = join(DIST, `web.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  run([
    join(ROOT, 'node_modules/vite/bin/vite.js'),
    'build',
    '--config',
    'web/vite.config.ts',
    '--logLevel',
    'warn',
    '--outDir',
    tmp,
    '--emptyOutDir',
  ]);
  const own = listFiles(join(tmp, 'assets'));
  writeFileSync(join(tmp, OWN_ASSETS), `${JSON.stringify(own)}\n`);
  // Carry the previous build's own assets (one generation back, so they do not pile up).
  const oldAssets = join(WEB_OUT, 'assets');
  let previous = listFiles(oldAssets);
  try {
    previous = JSON.parse(readFileSync(join(WEB_OUT, OWN_ASSETS), 'utf8'));
  } catch {}
  mkdirSync(join(tmp, 'assets'), { recursive: true });
  for (const name of previous) {
    const to = join(tmp, 'assets', name);
    if (!existsSync(to) && existsSync(join(oldAssets, name))) copyFileSync(join(oldAssets, name), to);
  }
  stamp(join(tmp, CONSOLE_STAMP), startedAt);
  // A directory cannot be renamed over a non-empty one: move the old one aside first. dist/web is missing
  // for the microseconds in between; the server keeps its last index.html for that moment.
  const old = join(DIST, `web.old-${process.pid}`);
  if (existsSync(WEB_OUT)) renameSync(WEB_OUT, old);
  renameSync(tmp, WEB_OUT);
  rmSync(old, { recursive: true, force: true });
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** One build at a time (parallel test workers, two `npm start`s): the others wait, then see it is fresh. */
async function withLock(fn) {
  mkdirSync(DIST, { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      let owner = 0;
      try {
        owner = Number(readFileSync(join(LOCK, 'pid'), 'utf8'));
      } catch {}
      // A lock without a live owner was left by a killed build (or is being created: give it a moment).
      if (owner > 0 && !pidAlive(owner)) rmSync(LOCK, { recursive: true, force: true });
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Build what is stale (or everything with force); returns what was built. */
export async function buildIfStale({ force = false, server = true, console: web = true } = {}) {
  const built = [];
  const needServer = server && (force || serverIsStale());
  const needConsole = web && (force || consoleIsStale());
  if (!needServer && !needConsole) return built;
  await withLock(() => {
    if (server && (force || serverIsStale())) {
      buildServer();
      built.push('server');
    }
    if (web && (force || consoleIsStale())) {
      buildConsole();
      built.push('console');
    }
  });
  return built;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = new Set(process.argv.slice(2));
  const only = args.has('--server') ? 'server' : args.has('--console') ? 'console' : undefined;
  try {
    const built = await buildIfStale({
      force: args.has('--force'),
      server: only !== 'console',
      console: only !== 'server',
    });
    if (built.length > 0 && !args.has('--quiet')) console.log(`[aihub] built ${built.join(' and ')}`);
  } catch (error) {
    console.error(`[aihub] ${error.message}`);
    process.exit(1);
  }
}
