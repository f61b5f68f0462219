import { accessSync, constants, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { type AcmeConfig, type Config, ConfigError, loadConfig } from '../config/index.js';
import { deriveKey, SecretBox } from '../core/secrets.js';
import { openDatabase } from '../infra/db/client.js';
import { pendingMigrations } from '../infra/db/migrate.js';
import { getProvider } from '../providers/registry.js';

/** One line of `aihub doctor`: what was checked, how it went, and what to do about it. */
export interface Finding {
  check: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  detail: string;
  fix?: string;
}

export interface DoctorOptions {
  env: Record<string, string | undefined>;
  /** How long each network check may take. */
  timeoutMs?: number;
  nodeVersion?: string;
}

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms).unref(),
    ),
  ]);

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Check what a running AI Hub depends on — Node, configuration, data directory, secret key, database and
 * migrations, Redis, the providers' hosts — and say what to fix. Never changes anything.
 */
export async function runDoctor(options: DoctorOptions): Promise<Finding[]> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const findings: Finding[] = [];
  const add = (f: Finding) => findings.push(f);

  const version = options.nodeVersion ?? process.versions.node;
  const [major = 0, minor = 0] = version.split('.').map(Number);
  add(
    major > 20 || (major === 20 && minor >= 19)
      ? { check: 'Node.js', status: 'ok', detail: `v${version}` }
      : {
          check: 'Node.js',
          status: 'fail',
          detail: `v${version}`,
          fix: 'Install Node.js 20.19 or later (22 or 24 recommended)',
        },
  );

  let config: Config;
  try {
    config = loadConfig(options.env);
    add({ check: 'configuration', status: 'ok', detail: 'every variable is valid' });
  } catch (error) {
    const problems = error instanceof ConfigError ? error.problems.join('; ') : message(error);
    add({
      check: 'configuration',
      status: 'fail',
      detail: problems,
      fix: 'Correct the variables named above (.env or the environment)',
    });
    return findings;
  }

  const sqlite = !config.databaseUrl || config.databaseUrl.startsWith('sqlite:');
  try {
    mkdirSync(config.dataDir, { recursive: true });
    accessSync(config.dataDir, constants.W_OK);
    add({ check: 'data directory', status: 'ok', detail: `${config.dataDir} is writable` });
  } catch (error) {
    add({
      check: 'data directory',
      status: sqlite || !config.secretKey ? 'fail' : 'warn',
      detail: `${config.dataDir}: ${message(error)}`,
      fix: 'Make AIHUB_DATA_DIR writable by the user running AI Hub, or point it elsewhere',
    });
  }

  let secretKey = config.secretKey;
  const keyFile = join(config.dataDir, 'secret.key');
  if (secretKey) add({ check: 'secret key', status: 'ok', detail: 'AIHUB_SECRET_KEY is set' });
  else if (existsSync(keyFile)) {
    const { loadOrCreateSecretKey } = await import('../config/secret-key.js');
    try {
      secretKey = loadOrCreateSecretKey(undefined, config.dataDir).key;
      add({
        check: 'secret key',
        status: sqlite ? 'ok' : 'warn',
        detail: `read from ${keyFile}`,
        ...(sqlite
          ? {}
          : {
              fix: 'With several instances, set the same AIHUB_SECRET_KEY on all of them (a key file is per instance)',
            }),
      });
    } catch (error) {
      add({
        check: 'secret key',
        status: 'fail',
        detail: message(error),
        fix: 'Restore secret.key from backup or set AIHUB_SECRET_KEY',
      });
    }
  } else
    add({
      check: 'secret key',
      status: 'warn',
      detail: `none yet: ${keyFile} will be created on first start`,
      fix: 'Back up the created file (or set AIHUB_SECRET_KEY): without it stored provider keys cannot be read',
    });

  const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
  try {
    await withTimeout(database.ping(), timeoutMs, 'the database');
    add({ check: 'database', status: 'ok', detail: `${database.engine} ${database.location}` });
    const pending = await pendingMigrations(database.db);
    add(
      pending.length === 0
        ? { check: 'schema', status: 'ok', detail: 'up to date' }
        : {
            check: 'schema',
            status: 'warn',
            detail: `${pending.length} migration(s) to apply: ${pending.join(', ')}`,
            fix: 'They run on the next start, or now with `aihub migrate` (`--dry-run` lists them)',
          },
    );
    await checkStoredData(database.db, secretKey, timeoutMs, add, pending.length > 0);
  } catch (error) {
    add({
      check: 'database',
      status: 'fail',
      detail: `${database.location}: ${message(error)}`,
      fix: sqlite
        ? 'Check that the SQLite file and its directory are readable and writable'
        : 'Check DATABASE_URL (host, port, user, password, database name) and that PostgreSQL accepts connections',
    });
  } finally {
    await database.close().catch(() => undefined);
  }

  if (config.redisUrl) {
    const { Redis } = await import('ioredis');
    const redis = new Redis(config.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    try {
      await withTimeout(redis.connect(), timeoutMs, 'Redis');
      const pong = await withTimeout(redis.ping(), timeoutMs, 'Redis');
      add({
        check: 'Redis',
        status: pong === 'PONG' ? 'ok' : 'fail',
        detail: `${new URL(config.redisUrl).host}: ${pong}`,
      });
    } catch (error) {
      add({
        check: 'Redis',
        status: 'fail',
        detail: message(error),
        fix: 'Check REDIS_URL and that Redis accepts connections (or unset it to run one instance with memory counters)',
      });
    } finally {
      redis.disconnect();
    }
  } else add({ check: 'Redis', status: 'skip', detail: 'REDIS_URL not set: counters in memory (one instance)' });

  if (config.acme) await checkAcmeDirectory(config.acme, timeoutMs, add);
  return findings;
}

/** The ACME directory answers with RFC 8555's resource URLs (AIHUB_ACME_CA_FILE trusted for its HTTPS). */
async function checkAcmeDirectory(acme: AcmeConfig, timeoutMs: number, add: (f: Finding) => void): Promise<void> {
  try {
    const ca = acme.caFile ? [...rootCertificates, readFileSync(acme.caFile, 'utf8')] : undefined;
    const body = await withTimeout(
      new Promise<string>((done, fail) => {
        const request = httpsGet(acme.directoryUrl, { ...(ca ? { ca } : {}), timeout: timeoutMs }, (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (text += c));
          res.on('end', () => (res.statusCode === 200 ? done(text) : fail(new Error(`HTTP ${res.statusCode}`))));
        });
        request.once('error', fail);
      }),
      timeoutMs,
      'the ACME directory',
    );
    const directory = JSON.parse(body) as { newOrder?: unknown };
    if (typeof directory.newOrder !== 'string') throw new Error('not an ACME directory (no newOrder)');
    add({ check: 'ACME', status: 'ok', detail: `${acme.directoryUrl} answers; domains ${acme.domains.join(', ')}` });
  } catch (error) {
    add({
      check: 'ACME',
      status: 'fail',
      detail: `${acme.directoryUrl}: ${message(error)}`,
      fix: 'Check AIHUB_ACME_DIRECTORY and outbound HTTPS (a private CA: AIHUB_ACME_CA_FILE)',
    });
  }
}

type Db = ReturnType<typeof openDatabase>['db'];

/** Stored provider keys readable with this secret key, and the providers' hosts reachable. */
async function checkStoredData(
  db: Db,
  secretKey: Buffer | undefined,
  timeoutMs: number,
  add: (f: Finding) => void,
  schemaPending: boolean,
): Promise<void> {
  let channels: Array<{ id: string; name: string; type: string; base_url: string | null; status: string }>;
  try {
    channels = await db.selectFrom('channels').select(['id', 'name', 'type', 'base_url', 'status']).execute();
  } catch (error) {
    if (schemaPending) return; // a new database: nothing stored yet
    throw error;
  }
  const sealed = await db.selectFrom('channel_keys').select(['secret_enc']).limit(1).executeTakeFirst();
  if (sealed && secretKey) {
    try {
      new SecretBox(deriveKey(secretKey, 'secrets-at-rest')).decrypt(sealed.secret_enc);
      add({ check: 'provider keys', status: 'ok', detail: 'stored keys decrypt with this secret key' });
    } catch {
      add({
        check: 'provider keys',
        status: 'fail',
        detail: 'stored provider keys do not decrypt with this secret key',
        fix: 'Use the AIHUB_SECRET_KEY (or secret.key) the keys were stored with; otherwise re-enter each channel key',
      });
    }
  }
  const active = channels.filter((c) => c.status !== 'disabled');
  if (active.length === 0) {
    add({ check: 'providers', status: 'skip', detail: 'no enabled channels' });
    return;
  }
  await Promise.all(
    active.map(async (channel) => {
      const provider = getProvider(channel.type);
      const base = channel.base_url ?? provider?.baseUrl.default;
      if (!base) {
        add({
          check: `provider ${channel.name}`,
          status: 'skip',
          detail: `${channel.type}: nothing to reach (in-process)`,
        });
        return;
      }
      const started = Date.now();
      try {
        // Any HTTP answer (401 without a key included) means the host is reachable.
        const res = await fetch(base, { method: 'GET', signal: AbortSignal.timeout(timeoutMs) });
        await res.body?.cancel();
        add({
          check: `provider ${channel.name}`,
          status: 'ok',
          detail: `${base} answered ${res.status} in ${Date.now() - started} ms`,
        });
      } catch (error) {
        add({
          check: `provider ${channel.name}`,
          status: 'fail',
          detail: `${base}: ${error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : message(error instanceof Error && error.cause ? error.cause : error)}`,
          fix: 'Check the channel base URL, DNS, and any firewall or proxy between this host and the provider',
        });
      }
    }),
  );
}

/** The findings as the terminal shows them; returns whether any check failed. */
export function printFindings(findings: Finding[], write: (line: string) => void = console.log): boolean {
  const mark = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: '--  ' } as const;
  for (const f of findings) {
    write(`[${mark[f.status]}] ${f.check}: ${f.detail}`);
    if (f.fix && f.status !== 'ok') write(`       → ${f.fix}`);
  }
  const failed = findings.filter((f) => f.status === 'fail').length;
  const warned = findings.filter((f) => f.status === 'warn').length;
  write(
    failed === 0
      ? `No problems found${warned ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}.`
      : `${failed} problem${failed === 1 ? '' : 's'} to fix.`,
  );
  return failed > 0;
}
