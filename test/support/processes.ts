import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestDatabase } from './databases.js';

/** The repository root (where `src/main.ts` is). */
export const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

/** The environment of a CLI child: ours without test, database and AI Hub variables, plus `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      name.startsWith('TEST_') ||
      name.startsWith('AIHUB_') ||
      ['DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST'].includes(name)
    )
      continue;
    env[name] = value;
  }
  // Servers of different tests share one Redis under the default key prefix: with BullMQ (the default when
  // REDIS_URL is set) one server's workers would run another's jobs against the wrong database. A test that
  // means BullMQ says AIHUB_JOBS=bullmq.
  return { ...env, AIHUB_LOG_LEVEL: 'silent', AIHUB_JOBS: 'embedded', ...extra };
}

/** Environment that points a child at a test database. */
export function databaseEnv(db: TestDatabase): Record<string, string> {
  return { AIHUB_DATA_DIR: db.dataDir, ...(db.url ? { DATABASE_URL: db.url } : {}) };
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

export function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null | 'timeout'> {
  return new Promise((done) => {
    if (child.exitCode !== null) return done(child.exitCode);
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done(code);
    });
  });
}

/** A `node --import tsx src/main.ts start` child (the current source, no build needed). */
export interface ServerProcess {
  child: ChildProcess;
  base: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
}

export function spawnServer(port: number, env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start'], {
    cwd: ROOT,
    env: childEnv({ PORT: String(port), HOST: '127.0.0.1', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  return { child, base: `http://127.0.0.1:${port}`, output: () => output };
}

/** Poll /health until it answers 200; false when the process exits or `timeoutMs` passes first. */
export async function waitHealthy(server: ServerProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && server.child.exitCode === null) {
    const healthy = await fetch(`${server.base}/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (healthy) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `aihub …args`: `node --import tsx src/main.ts` from the repository root, as an operator runs the CLI. Seconds
 * each on a busy 2-core machine (the sources load through tsx).
 */
export function runCli(args: string[], env: Record<string, string>, timeoutMs = 90_000): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/main.ts', ...args],
      { cwd: ROOT, env: childEnv(env), timeout: timeoutMs },
      (error, stdout, stderr) =>
        done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    );
  });
}
