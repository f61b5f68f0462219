/**
 * Shared setup of the gateway integration tests: the real app over a private database, an admin and a
 * virtual key, channels and models added through the admin API, SDK clients pointed at the app, raw SSE
 * calls, and access to the request-log row of a request (the usage writer is flushed first).
 */
import { request as httpRequest } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import { createParser } from 'eventsource-parser';
import OpenAI from 'openai';
import type { ChannelResponse } from '../../src/modules/channels/service.js';
import type { ModelResponse } from '../../src/modules/models/service.js';
import { type LogEntry, toLogEntry } from '../../src/modules/usage/logs.js';
import { MASTER_KEY, uniqueEmail } from './accounts.js';
import { type Call, client, register, type SignedIn, startTestApp, type TestApp, type TestAppOptions } from './app.js';
import type { EngineName } from './databases.js';

/** One definition of each, in accounts.ts; re-exported so the gateway tests import their harness only. */
export { MASTER_KEY, uniqueEmail } from './accounts.js';

export interface GatewayUnderTest {
  t: TestApp;
  url: string;
  call: Call;
  /** The first account (an admin). */
  admin: SignedIn;
  /** A virtual key of the admin: the /v1 credential. */
  key: string;
  keyId: string;
}

/** Create a virtual key for the signed-in account. */
export async function createKey(
  call: Call,
  token: string,
  name = 'gateway-test',
): Promise<{ secret: string; id: string }> {
  const res = await call<{ secret: string; key: { id: string } }>('POST', '/api/keys', { token, body: { name } });
  if (res.status !== 201) throw new Error(`create key failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { secret: res.body.secret, id: res.body.key.id };
}

/** Start the app with an admin and a virtual key. */
export async function startGateway(
  engine: EngineName,
  options: Omit<TestAppOptions, 'engine'> = {},
): Promise<GatewayUnderTest> {
  const t = await startTestApp({ ...options, engine, env: { AIHUB_MASTER_KEY: MASTER_KEY, ...options.env } });
  const call = client(t.url);
  const admin = await register(call, uniqueEmail('admin'));
  const { secret, id } = await createKey(call, admin.token);
  return { t, url: t.url, call, admin, key: secret, keyId: id };
}

export interface ChannelBody {
  name: string;
  type: string;
  baseUrl?: string | null;
  keys?: string[];
  options?: {
    headers?: Record<string, string>;
    timeouts?: Record<string, number>;
    modelMapping?: Record<string, string>;
    provider?: Record<string, string>;
  };
  priority?: number;
  weight?: number;
  enabled?: boolean;
}

export interface ModelBody {
  name: string;
  enabled?: boolean;
  inputPrice?: number;
  outputPrice?: number;
  cachedInputPrice?: number | null;
  /** micro-USD per image (`image`, `images` by size/quality), audio `second`, speech `character`, `searchUnit`. */
  unitPrices?: Record<string, number | Record<string, number>> | null;
  capabilities?: string[];
  routes?: Array<{ channelId: string; upstreamModel?: string | null; priority?: number; weight?: number }>;
}

/** POST /api/admin/channels as the admin. */
export async function addChannel(gw: GatewayUnderTest, body: ChannelBody): Promise<ChannelResponse> {
  const res = await gw.call<ChannelResponse>('POST', '/api/admin/channels', { token: gw.admin.token, body });
  if (res.status !== 201) throw new Error(`add channel failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** POST /api/admin/models as the admin. */
export async function addModel(gw: GatewayUnderTest, body: ModelBody): Promise<ModelResponse> {
  const res = await gw.call<ModelResponse>('POST', '/api/admin/models', { token: gw.admin.token, body });
  if (res.status !== 201) throw new Error(`add model failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Prices that make per-term rounding visible (micro-USD per 1M tokens). */
export const PRICES = { inputPrice: 1_234_567, outputPrice: 7_654_321, cachedInputPrice: 123_457 } as const;

/** The cost rule of DESIGN.md §5: uncached × input + cached × cachedInput + completion × output, each rounded up. */
export function expectedCost(
  tokens: { prompt: number; completion: number; cached: number },
  prices: { inputPrice: number; outputPrice: number; cachedInputPrice: number | null } = PRICES,
): number {
  const up = (n: number, price: number) => (n <= 0 || price <= 0 ? 0 : Math.ceil((n * price) / 1_000_000));
  return (
    up(tokens.prompt - tokens.cached, prices.inputPrice) +
    up(tokens.cached, prices.cachedInputPrice ?? prices.inputPrice) +
    up(tokens.completion, prices.outputPrice)
  );
}

export function openaiClient(gw: GatewayUnderTest, apiKey = gw.key): OpenAI {
  return new OpenAI({ baseURL: `${gw.url}/v1`, apiKey, maxRetries: 0, timeout: 15_000 });
}

export function anthropicClient(gw: GatewayUnderTest, apiKey = gw.key): Anthropic {
  return new Anthropic({ baseURL: gw.url, apiKey, maxRetries: 0, timeout: 15_000 });
}

/** The request-log row of `requestId`, waiting (and flushing the writer) until it has been settled. */
export async function logOf(t: TestApp, requestId: string | null | undefined, timeoutMs = 5_000): Promise<LogEntry> {
  if (!requestId) throw new Error('no request id');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await t.services.recorder.flush();
    const row = await t.database.handle.db
      .selectFrom('request_logs')
      .selectAll()
      .where('id', '=', requestId)
      .executeTakeFirst();
    if (row) return toLogEntry({ ...row, has_bodies: row.request_body !== null || row.response_body !== null });
    if (Date.now() > deadline) throw new Error(`no request log row for ${requestId}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every column of the raw request_logs row of `requestId` (for secret-leak checks). */
export async function rawLogRow(t: TestApp, requestId: string): Promise<Record<string, unknown>> {
  await logOf(t, requestId);
  return (await t.database.handle.db
    .selectFrom('request_logs')
    .selectAll()
    .where('id', '=', requestId)
    .executeTakeFirstOrThrow()) as unknown as Record<string, unknown>;
}

export interface SseEvent {
  event: string | undefined;
  data: string;
}

export interface SseResult {
  status: number;
  headers: Headers;
  text: string;
  events: SseEvent[];
  /** `data:` payloads parsed as JSON ([DONE] and non-JSON left out). */
  payloads: Array<Record<string, unknown>>;
  requestId: string | null;
}

export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ event: e.event, data: e.data }) });
  parser.feed(text);
  parser.feed('\n\n');
  return events;
}

function payloadsOf(events: SseEvent[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const e of events) {
    if (!e.data.startsWith('{')) continue;
    out.push(JSON.parse(e.data) as Record<string, unknown>);
  }
  return out;
}

/** POST a JSON body and read the whole (SSE or JSON) answer as text. */
export async function postRaw(url: string, body: unknown, headers: Record<string, string>): Promise<SseResult> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const events = parseSse(text);
  return {
    status: res.status,
    headers: res.headers,
    text,
    events,
    payloads: payloadsOf(events),
    requestId: res.headers.get('x-request-id'),
  };
}

/**
 * POST a streaming request, read until the first chunk with text content arrives, then destroy the
 * connection as a client that goes away would. Returns the request id and what was read. (node:http,
 * whose destroy() closes the socket at once; an aborted fetch leaves undici's pool holding it.)
 */
export function postAndAbortAfterFirstChunk(
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ requestId: string | null; firstText: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (!/"(content|text)":"[^"]/.test(text)) return;
          req.destroy();
          const id = res.headers['x-request-id'];
          resolve({ requestId: typeof id === 'string' ? id : null, firstText: text });
        });
        res.on('end', () => reject(new Error(`the stream ended before any content: ${text}`)));
      },
    );
    req.on('error', () => undefined);
    req.end(JSON.stringify(body));
  });
}

/** Wait until `check` returns a truthy value (polling), or throw after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A 1×1 PNG as a data URL, and its base64 payload. */
export const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
export const PNG_DATA_URL = `data:image/png;base64,${PNG_BASE64}`;

/** The get_weather tool every tool test declares. */
export const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        location: { type: 'string' },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      },
    },
  },
};
