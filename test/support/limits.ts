/**
 * Shared setup of the limits tests: the real app (memory or Redis counters, SQLite or PostgreSQL) on a
 * hand-moved clock, the built-in mock channel and models, an admin (the master key, so moving the clock
 * never expires it), keys made through the API, the three spend routes, and the request log to check
 * counters and the usage API against.
 *
 * Mock arithmetic the tests rely on (see src/providers/mock/ and accounting.ts): the prompt "Hello there"
 * is 8 tokens; its reservation estimate is 10 (11 bytes / 2, plus the mock's 4 tokens a message); with
 * max_tokens 20 the answer is exactly 20 tokens. mock-gpt costs 1 micro-USD per prompt token and 2 per
 * completion token, so such a request reserves 50 micro-USD and 30 tokens, and costs 48 and 28.
 */
import { expect } from 'vitest';
import { seedDemo } from '../../src/demo.js';
import type { Scope } from '../../src/modules/limits/enforcer.js';
import type { Period } from '../../src/modules/limits/periods.js';
import { MASTER_KEY, uniqueEmail } from './accounts.js';
import { type Call, client, ManualClock, register, startTestApp, type TestApp } from './app.js';
import type { EngineName } from './databases.js';

/** One definition of each, in accounts.ts; re-exported so the limits tests import their harness only. */
export { uniqueEmail } from './accounts.js';

/** The master key (accounts.ts), under the name the limits tests use. */
export const MASTER = MASTER_KEY;
export const HELLO = 'Hello there';
/** Cost and tokens of `chat(secret)` with the defaults below. */
export const HELLO_COST = 48;
export const HELLO_TOKENS = 28;
/** Sunday 2026-11-22 10:00 UTC. */
export const START = Date.UTC(2026, 10, 22, 10, 0, 0);

export interface ApiError {
  error: { message: string; type: string; code: string; param: string | null };
}
export interface AnthropicError {
  type: 'error';
  error: { type: string; message: string };
}
export interface KeyBody {
  id: string;
  userId: string;
  teamId: string | null;
  allowedModels: string[] | null;
  allowedIps: string[] | null;
  limits: Policy;
}
export interface Policy {
  budgetMicros: number | null;
  budgetPeriod: Period;
  tokenQuota: number | null;
  tokenQuotaPeriod: Period;
  rpm: number | null;
  tpm: number | null;
  maxConcurrency: number | null;
}
export interface Meter {
  period: Period;
  used: number;
  limit: number | null;
  remaining: number | null;
  resetsAt: number | null;
}
export interface ScopeUsage {
  requests: number;
  spend: Meter;
  tokens: Meter;
  limits: Policy;
}
export interface CurrentUsage {
  user: { id: string; usage: ScopeUsage } | null;
  keys: Array<{ id: string; name: string; usage: ScopeUsage }>;
}
export interface LogRow {
  status: number;
  model: string;
  endpoint: string;
  at: number;
  cost: number;
  tokens: number;
  prompt: number;
  completion: number;
}

export interface LimitsApp {
  t: TestApp;
  call: Call;
  clock: ManualClock;
  /** The first account (an admin); keys made by `newKey` belong to it unless a token is given. */
  ownerId: string;
  newKey(body?: Record<string, unknown>, token?: string): Promise<{ secret: string; key: KeyBody }>;
  chat(secret: string, extra?: Record<string, unknown>, headers?: Record<string, string>): Promise<Answer<ApiError>>;
  messages(
    secret: string,
    extra?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<Answer<AnthropicError>>;
  embed(secret: string, extra?: Record<string, unknown>, headers?: Record<string, string>): Promise<Answer<ApiError>>;
  /** Open a streamed chat completion and wait for its response headers (the body is still coming). */
  openStream(secret: string, model: string, signal?: AbortSignal): Promise<Response>;
  /**
   * Add a mock channel that waits `chunkDelayMs` between stream chunks, and a model routed to it (free
   * unless prices are given, micro-USD per 1M tokens).
   */
  slowModel(name: string, chunkDelayMs: number, prices?: { inputPrice: number; outputPrice: number }): Promise<string>;
  usage(token: string): Promise<CurrentUsage>;
  setLimits(scope: 'user' | 'team' | 'org', id: string, body: Record<string, unknown>): Promise<Policy>;
  settings(body: Record<string, unknown>): Promise<void>;
  /** Rows of the request log (pending records written first). */
  logs(column: 'key_id' | 'user_id' | 'team_id' | 'org_id', id: string): Promise<LogRow[]>;
  /** A period counter of the enforcer (what admission compares against the limit). */
  counter(scope: Pick<Scope, 'type' | 'id'>, what: 'cost' | 'tokens', period: Period): Promise<number>;
  close(): Promise<void>;
}

export type Answer<T> = { status: number; body: T; headers: Headers };

export interface LimitsAppOptions {
  backend: 'memory' | 'redis';
  engine?: EngineName;
  clock?: ManualClock;
  env?: Record<string, string>;
}

export async function startLimitsApp(options: LimitsAppOptions): Promise<LimitsApp> {
  const clock = options.clock ?? new ManualClock(START);
  const t = await startTestApp({
    engine: options.engine ?? 'sqlite',
    backend: options.backend,
    clock,
    env: { AIHUB_TRUST_PROXY: 'true', AIHUB_MASTER_KEY: MASTER, ...options.env },
  });
  const call = client(t.url);
  const ownerId = (await register(call, uniqueEmail('owner'))).userId;
  await seedDemo(t.services);
  let keys = 0;
  const db = t.database.handle.db;

  const app: LimitsApp = {
    t,
    call,
    clock,
    ownerId,
    async newKey(body = {}, token = MASTER) {
      const owner = token === MASTER && body.userId === undefined ? { userId: ownerId } : {};
      const res = await call<{ secret: string; key: KeyBody }>('POST', '/api/keys', {
        token,
        body: { name: `limits-${++keys}`, ...owner, ...body },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body;
    },
    chat: (secret, extra = {}, headers = {}) =>
      call<ApiError>('POST', '/v1/chat/completions', {
        token: secret,
        headers,
        body: { model: 'mock-gpt', max_tokens: 20, messages: [{ role: 'user', content: HELLO }], ...extra },
      }),
    messages: (secret, extra = {}, headers = {}) =>
      call<AnthropicError>('POST', '/v1/messages', {
        headers: { 'x-api-key': secret, 'anthropic-version': '2023-06-01', ...headers },
        body: { model: 'mock-gpt', max_tokens: 20, messages: [{ role: 'user', content: HELLO }], ...extra },
      }),
    embed: (secret, extra = {}, headers = {}) =>
      call<ApiError>('POST', '/v1/embeddings', {
        token: secret,
        headers,
        body: { model: 'mock-embedding', input: HELLO, ...extra },
      }),
    openStream: (secret, model, signal) =>
      fetch(`${t.url}/v1/chat/completions`, {
        method: 'POST',
        signal,
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          stream: true,
          max_tokens: 12,
          messages: [{ role: 'user', content: 'tell me more' }],
        }),
      }),
    async slowModel(name, chunkDelayMs, prices) {
      const channel = await call<{ id: string }>('POST', '/api/admin/channels', {
        token: MASTER,
        body: { name: `${name}-channel`, type: 'mock', options: { provider: { chunkDelayMs: String(chunkDelayMs) } } },
      });
      expect(channel.status, JSON.stringify(channel.body)).toBe(201);
      const model = await call('POST', '/api/admin/models', {
        token: MASTER,
        body: { name, ...prices, routes: [{ channelId: channel.body.id }] },
      });
      expect(model.status, JSON.stringify(model.body)).toBe(201);
      return name;
    },
    async usage(token) {
      const res = await call<CurrentUsage>('GET', '/api/usage/current', { token });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body;
    },
    async setLimits(scope, id, body) {
      const res = await call<Policy>('PATCH', `/api/admin/limits/${scope}/${id}`, { token: MASTER, body });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body;
    },
    async settings(body) {
      const res = await call('PATCH', '/api/admin/settings', { token: MASTER, body });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    },
    async logs(column, id) {
      await t.services.recorder.flush();
      const rows = await db
        .selectFrom('request_logs')
        .select(['status', 'model', 'endpoint', 'at', 'cost_micros', 'prompt_tokens', 'completion_tokens'])
        .where(column, '=', id)
        .orderBy('at')
        .execute();
      return rows.map((r) => ({
        status: Number(r.status),
        model: r.model,
        endpoint: r.endpoint,
        at: Number(r.at),
        cost: Number(r.cost_micros),
        prompt: Number(r.prompt_tokens),
        completion: Number(r.completion_tokens),
        tokens: Number(r.prompt_tokens) + Number(r.completion_tokens),
      }));
    },
    async counter(scope, what, period) {
      return (await t.services.enforcer.current(scope, what, period)).used;
    },
    close: () => t.close(),
  };
  return app;
}

/** Wait until `read` gives a value `accept` likes (settlement runs just after the answer is sent). */
export async function eventually<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 3_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

export const sum = (rows: LogRow[], pick: (row: LogRow) => number): number => rows.reduce((n, r) => n + pick(r), 0);

/** `n` copies of the same request, all in flight at once. */
export function burst<T>(n: number, send: () => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, send));
}

export function statuses(results: Array<{ status: number }>): Record<number, number> {
  const out: Record<number, number> = {};
  for (const r of results) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

/** Seconds from `now` to `at`, as Retry-After carries it. */
export const secondsUntil = (at: number, now: number): string => String(Math.ceil((at - now) / 1000));
