import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, ConfigError, isEmail, loadConfig, parseSecretKey, readEnvironment } from './index.js';

const HEX_KEY = 'ab'.repeat(32);

/** The problems loadConfig reports for `env` (fails the test when it does not throw). */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('loadConfig', () => {
  it('runs with no variables at all: port 3000, SQLite in ./data, no master key, registration open', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      dataDir: resolve('./data'),
      databaseUrl: undefined,
      redisUrl: undefined,
      secretKey: undefined,
      masterKey: undefined,
      adminEmail: undefined,
      adminPassword: undefined,
      allowRegistration: true,
      logLevel: 'info',
      logFormat: 'auto',
      corsOrigins: false,
      bodyLimitBytes: 20 * 1024 * 1024,
      uploadLimitBytes: 25 * 1024 * 1024,
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 2_592_000,
      trustProxy: false,
      shutdownTimeoutMs: 30_000,
      configFile: undefined,
    });
  });

  it('treats blank values as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: '  ', AIHUB_MASTER_KEY: '', AIHUB_LOG_LEVEL: ' ' })).toMatchObject({
      port: 3000,
      databaseUrl: undefined,
      masterKey: undefined,
      logLevel: 'info',
    });
  });

  it('reads every variable it documents', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'aihub-config-'));
    const configFile = join(dataDir, 'aihub.yaml');
    writeFileSync(configFile, 'channels: []\n');
    try {
      const config = loadConfig({
        PORT: '8080',
        HOST: '127.0.0.1',
        AIHUB_DATA_DIR: dataDir,
        DATABASE_URL: 'postgres://u:p@db:5432/aihub',
        REDIS_URL: 'rediss://cache:6380',
        AIHUB_SECRET_KEY: HEX_KEY,
        AIHUB_MASTER_KEY: 'a-master-key-of-16+',
        AIHUB_ADMIN_EMAIL: 'Root@Example.COM',
        AIHUB_ADMIN_PASSWORD: 'long enough',
        AIHUB_ALLOW_REGISTRATION: 'off',
        AIHUB_LOG_LEVEL: 'debug',
        AIHUB_LOG_FORMAT: 'json',
        AIHUB_CORS_ORIGINS: 'https://a.example.com, http://localhost:5173',
        AIHUB_BODY_LIMIT_MB: '5',
        AIHUB_ACCESS_TOKEN_TTL: '60',
        AIHUB_REFRESH_TOKEN_TTL: '3600',
        AIHUB_TRUST_PROXY: 'yes',
        AIHUB_SHUTDOWN_TIMEOUT_MS: '0',
        AIHUB_CONFIG: configFile,
        AIHUB_JOBS: 'embedded',
        AIHUB_WORKERS: 'false',
        AIHUB_JOBS_POLL_MS: '250',
      });
      expect(config).toMatchObject({
        port: 8080,
        host: '127.0.0.1',
        dataDir,
        databaseUrl: 'postgres://u:p@db:5432/aihub',
        redisUrl: 'rediss://cache:6380',
        masterKey: 'a-master-key-of-16+',
        adminEmail: 'root@example.com',
        adminPassword: 'long enough',
        allowRegistration: false,
        logLevel: 'debug',
        logFormat: 'json',
        corsOrigins: ['https://a.example.com', 'http://localhost:5173'],
        bodyLimitBytes: 5 * 1024 * 1024,
        uploadLimitBytes: 25 * 1024 * 1024,
        accessTokenTtlSeconds: 60,
        refreshTokenTtlSeconds: 3600,
        trustProxy: true,
        shutdownTimeoutMs: 0,
        jobs: { backend: 'embedded', workers: false, pollMs: 250 },
        configFile,
      });
      expect(config.secretKey?.toString('hex')).toBe(HEX_KEY);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
    // Every variable in CONFIG_VARIABLES has a default and a description (config check, .env.example).
    for (const v of CONFIG_VARIABLES) expect(v.default.length * v.description.length, v.name).toBeGreaterThan(0);
  });

  it('picks the job queue: BullMQ with REDIS_URL, embedded without; refuses what it cannot run', () => {
    expect(loadConfig({}).jobs).toEqual({ backend: 'embedded', workers: true, pollMs: 1000, leaseMs: 30_000 });
    expect(loadConfig({ AIHUB_JOBS_LEASE_MS: '5000' }).jobs.leaseMs).toBe(5000);
    expect(() => loadConfig({ AIHUB_JOBS_LEASE_MS: '10' })).toThrow(/AIHUB_JOBS_LEASE_MS/);
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379' }).jobs.backend).toBe('bullmq');
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379', AIHUB_JOBS: 'embedded' }).jobs.backend).toBe('embedded');
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379', AIHUB_JOBS: 'BullMQ' }).jobs.backend).toBe('bullmq');
    expect(() => loadConfig({ AIHUB_JOBS: 'bullmq' })).toThrow(/AIHUB_JOBS=bullmq needs REDIS_URL/);
    expect(() => loadConfig({ AIHUB_JOBS: 'celery' })).toThrow(/AIHUB_JOBS="celery" must be embedded or bullmq/);
    expect(() => loadConfig({ AIHUB_JOBS_POLL_MS: '5' })).toThrow(/AIHUB_JOBS_POLL_MS/);
  });

  it('accepts `*` for CORS, sqlite: URLs, port 0 and a base64 secret key', () => {
    const config = loadConfig({
      AIHUB_CORS_ORIGINS: '*',
      DATABASE_URL: 'sqlite:/tmp/x.db',
      PORT: '0',
      AIHUB_SECRET_KEY: Buffer.alloc(32, 9).toString('base64'),
    });
    expect(config.corsOrigins).toBe(true);
    expect(config.databaseUrl).toBe('sqlite:/tmp/x.db');
    expect(config.port).toBe(0);
    expect(config.secretKey?.equals(Buffer.alloc(32, 9))).toBe(true);
  });

  it.each([
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['PORT', { PORT: '80.5' }],
    ['AIHUB_LOG_LEVEL', { AIHUB_LOG_LEVEL: 'verbose' }],
    ['AIHUB_LOG_FORMAT', { AIHUB_LOG_FORMAT: 'xml' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://u:p@db/aihub' }],
    ['REDIS_URL', { REDIS_URL: 'http://cache:6379' }],
    ['AIHUB_SECRET_KEY', { AIHUB_SECRET_KEY: 'too-short' }],
    ['AIHUB_SECRET_KEY', { AIHUB_SECRET_KEY: 'ab'.repeat(31) }],
    ['AIHUB_MASTER_KEY', { AIHUB_MASTER_KEY: 'short-key' }],
    ['AIHUB_ADMIN_EMAIL', { AIHUB_ADMIN_EMAIL: 'root@example.com' }],
    ['AIHUB_ADMIN_PASSWORD', { AIHUB_ADMIN_PASSWORD: 'long enough' }],
    ['AIHUB_ADMIN_EMAIL', { AIHUB_ADMIN_EMAIL: 'not-an-email', AIHUB_ADMIN_PASSWORD: 'long enough' }],
    ['AIHUB_ADMIN_PASSWORD', { AIHUB_ADMIN_EMAIL: 'root@example.com', AIHUB_ADMIN_PASSWORD: 'short' }],
    ['AIHUB_CORS_ORIGINS', { AIHUB_CORS_ORIGINS: 'console.example.com' }],
    ['AIHUB_CORS_ORIGINS', { AIHUB_CORS_ORIGINS: 'https://ok.example.com,https://bad.example.com/path' }],
    ['AIHUB_ALLOW_REGISTRATION', { AIHUB_ALLOW_REGISTRATION: 'maybe' }],
    ['AIHUB_BODY_LIMIT_MB', { AIHUB_BODY_LIMIT_MB: '0' }],
    ['AIHUB_ACCESS_TOKEN_TTL', { AIHUB_ACCESS_TOKEN_TTL: '10' }],
    ['AIHUB_REFRESH_TOKEN_TTL', { AIHUB_REFRESH_TOKEN_TTL: 'forever' }],
    ['AIHUB_TRUST_PROXY', { AIHUB_TRUST_PROXY: '2' }],
    ['AIHUB_SHUTDOWN_TIMEOUT_MS', { AIHUB_SHUTDOWN_TIMEOUT_MS: '-1' }],
    ['AIHUB_CONFIG', { AIHUB_CONFIG: '/no/such/aihub.yaml' }],
  ])('reports a bad %s by name', (name, env) => {
    const problems = problemsOf(env);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(name);
  });

  it('reports every problem at once, in one error message', () => {
    const env = {
      PORT: 'abc',
      AIHUB_LOG_LEVEL: 'loud',
      DATABASE_URL: 'mongodb://x',
      REDIS_URL: 'tcp://r',
      AIHUB_MASTER_KEY: 'short',
    };
    const problems = problemsOf(env);
    expect(problems).toHaveLength(5);
    let message = '';
    try {
      loadConfig(env);
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of ['PORT', 'AIHUB_LOG_LEVEL', 'DATABASE_URL', 'REDIS_URL', 'AIHUB_MASTER_KEY'])
      expect(message).toContain(name);
  });

  it('never echoes secret values in its problems', () => {
    const problems = problemsOf({
      AIHUB_SECRET_KEY: 'my-private-secret-value',
      AIHUB_MASTER_KEY: 'tiny-secret',
      DATABASE_URL: 'mysql://user:hunter2@db/x',
    });
    const text = problems.join('\n');
    expect(text).not.toContain('my-private-secret-value');
    expect(text).not.toContain('tiny-secret');
    expect(text).not.toContain('hunter2');
  });
});

describe('parseSecretKey and isEmail', () => {
  it('takes 32 bytes as hex or base64 only', () => {
    expect(parseSecretKey(HEX_KEY)?.length).toBe(32);
    expect(parseSecretKey(HEX_KEY.toUpperCase())?.length).toBe(32);
    expect(parseSecretKey(Buffer.alloc(32, 1).toString('base64url'))?.equals(Buffer.alloc(32, 1))).toBe(true);
    expect(parseSecretKey(Buffer.alloc(31, 1).toString('base64'))).toBeUndefined();
    expect(parseSecretKey(Buffer.alloc(33, 1).toString('base64'))).toBeUndefined();
  });

  it('accepts ordinary addresses and rejects the rest', () => {
    expect(isEmail('a@b.io')).toBe(true);
    for (const bad of ['a@b', '@b.io', 'a b@c.io', 'a@b.io ', `${'x'.repeat(250)}@b.io`])
      expect(isEmail(bad), bad).toBe(false);
  });
});

describe('readEnvironment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aihub-env-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads .env from the directory, and the real environment wins over it', () => {
    writeFileSync(
      join(dir, '.env'),
      'PORT=4000\nAIHUB_LOG_LEVEL=debug\n# a comment\nAIHUB_MASTER_KEY="quoted master key value"\n',
    );
    const env = readEnvironment(dir, { PORT: '5000', OTHER: 'x' });
    expect(env).toMatchObject({
      PORT: '5000',
      AIHUB_LOG_LEVEL: 'debug',
      AIHUB_MASTER_KEY: 'quoted master key value',
      OTHER: 'x',
    });
    expect(loadConfig(env)).toMatchObject({ port: 5000, logLevel: 'debug' });
  });

  it('works without a .env file', () => {
    const empty = mkdtempSync(join(tmpdir(), 'aihub-env-'));
    try {
      expect(readEnvironment(empty, { PORT: '1' })).toEqual({ PORT: '1' });
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
