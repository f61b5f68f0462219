import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config/index.js';
import type { Clock } from '../../src/core/clock.js';
import { REDIS_CLIENT_OPTIONS } from '../../src/infra/state/redis-options.js';
import { createArgon2Hasher } from '../../src/modules/auth/passwords.js';
import type { RequestTracing } from '../../src/observability/index.js';
import { createServices, type Services, startServices } from '../../src/services.js';
import { createTestDatabase, type EngineName, type TestDatabase } from './databases.js';

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(public time = Date.UTC(2026, 0, 15, 12, 0, 0)) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

export interface TestApp {
  url: string;
  app: FastifyInstance;
  services: Services;
  database: TestDatabase;
  close(): Promise<void>;
}

/** Counter backends this run tests: memory always, Redis when TEST_REDIS_URL is set. */
export const BACKENDS: Array<'memory' | 'redis'> = process.env.TEST_REDIS_URL ? ['memory', 'redis'] : ['memory'];

export interface TestAppOptions {
  engine?: EngineName;
  /** Share counters and limits through Redis (TEST_REDIS_URL) under a private key prefix. */
  backend?: 'memory' | 'redis';
  /** Routing randomness. */
  random?: () => number;
  env?: Record<string, string>;
  clock?: Clock;
  throttle?: { perIp?: number; perAccount?: number; windowSeconds?: number };
  /** Serve this database (e.g. a restored one) instead of a new one; dropped on close all the same. */
  database?: TestDatabase;
  /** The master secret its stored provider keys were encrypted with (a fixture's). */
  secretKey?: Buffer;
  /** Export traces (observability/openTracing). */
  tracing?: RequestTracing;
}

const TEST_SECRET = Buffer.alloc(32, 7);

/** The real app on a real loopback port over a private database. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase(options.engine ?? 'sqlite'));
  const redisPrefix = `aihub-test:${process.pid}:${Math.random().toString(36).slice(2, 10)}`;
  const redis =
    options.backend === 'redis' ? new Redis(process.env.TEST_REDIS_URL as string, REDIS_CLIENT_OPTIONS) : undefined;
  const config: Config = loadConfig({ AIHUB_DATA_DIR: database.dataDir, AIHUB_LOG_LEVEL: 'silent', ...options.env });
  const services = createServices({
    config,
    database: database.handle,
    secretKey: options.secretKey ?? TEST_SECRET,
    clock: options.clock,
    // Real argon2id with small parameters: same code path, fast tests.
    hasher: createArgon2Hasher({ memoryCost: 1024, timeCost: 1 }),
    throttle: options.throttle,
    redis,
    redisPrefix,
    random: options.random,
    tracing: options.tracing,
  });
  await startServices(services);
  const app = await buildApp(services, { logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    services,
    database,
    close: async () => {
      await app.close();
      await services.close();
      await database.drop();
      if (redis) {
        const keys = await redis.keys(`${redisPrefix}*`);
        if (keys.length > 0) await redis.del(...keys);
        redis.disconnect();
      }
    },
  };
}

export interface CallOptions {
  token?: string | undefined;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw body text (sent as application/json). */
  raw?: string;
}

export interface CallResult<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

/** A small HTTP client for the test app. */
export function client(base: string) {
  return async function call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: CallOptions = {},
  ): Promise<CallResult<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.raw !== undefined) body = options.raw;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  };
}

export type Call = ReturnType<typeof client>;

export interface SignedIn {
  token: string;
  userId: string;
  email: string;
  cookie: string;
}

/** Register an account over HTTP and return its access token and refresh cookie. */
export async function register(call: Call, email: string, password = 'correct horse 1'): Promise<SignedIn> {
  const res = await call<{ accessToken: string; user: { id: string } }>('POST', '/api/auth/register', {
    body: { email, password },
  });
  if (res.status !== 201) throw new Error(`register ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { token: res.body.accessToken, userId: res.body.user.id, email, cookie: refreshCookieOf(res.headers) };
}

export function refreshCookieOf(headers: Headers): string {
  const setCookie = headers.getSetCookie().find((c) => c.startsWith('aihub_refresh='));
  return setCookie ? (setCookie.split(';')[0] as string) : '';
}
