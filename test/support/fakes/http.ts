/**
 * The plumbing every fake upstream shares: a `node:http` server on a loopback port that records each
 * request, answers through a provider-specific handler, and can misbehave on demand (slow first byte,
 * connection reset before the headers or in the middle of a stream, slow streams a client may abort).
 *
 * Provider modules (openai.ts, anthropic.ts, gemini.ts) only decide what bytes a scenario sends.
 */
import { readFileSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a fake upstream does with the next requests. */
export type ScenarioName =
  /** A plain text answer (each provider's recorded text fixture where there is one). */
  | 'text'
  /** A function/tool call with JSON arguments. */
  | 'tool_call'
  /** Reasoning text (DeepSeek reasoning_content, Anthropic thinking, Gemini thought parts). */
  | 'reasoning'
  /** An answer whose usage reports prompt-cache hits. */
  | 'cached_usage'
  /** A long text (200 words) streamed piece by piece; pair with `chunkDelayMs` for a slow stream. */
  | 'long_text'
  /** HTTP 429 in the provider's error shape with `Retry-After`. */
  | 'rate_limit'
  /** HTTP 500 in the provider's error shape. */
  | 'server_error'
  /** The provider's answer to a wrong key, whatever key was sent. */
  | 'unauthorized'
  /** HTTP 400 in the provider's error shape (the client's fault: not worth a retry elsewhere). */
  | 'bad_request'
  /** The TCP connection is destroyed after the request arrived, before any response byte. */
  | 'reset_before_headers'
  /** A text stream whose connection is destroyed after a few events. */
  | 'reset_mid_stream'
  /** A stream that reports an error event after some output (the provider's mid-stream error shape). */
  | 'stream_error';

export interface Scenario {
  name: ScenarioName;
  /** Wait this long before sending anything (slow first byte). */
  firstByteDelayMs?: number;
  /** Pause between stream events (default 1 ms, so each event is its own write). */
  chunkDelayMs?: number;
  /**
   * For streams: wait this long after the last event before ending the response (a server that keeps the
   * body open a moment after `[DONE]`).
   */
  endDelayMs?: number;
  /** Never report token usage (not in the body, not in any stream event). */
  omitUsage?: boolean;
  /** Seconds sent in `Retry-After` on a 429 (default 7). */
  retryAfterSeconds?: number;
  /**
   * For stream requests: send these SSE events verbatim instead of the scenario's answer (a recorded
   * fixture of a server variant, e.g. vLLM's `choices: null` usage chunk).
   */
  replay?: string[];
  /** For non-stream requests: answer 200 with this body verbatim (a recorded or constructed fixture). */
  body?: unknown;
}

export type ScenarioInput = Scenario | ScenarioName;

/** One request as the fake received it. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON (undefined when empty or not JSON). */
  body: unknown;
  raw: string;
  /** The scenario this request was answered with. */
  scenario: Scenario;
  /** True once the client closed the connection before the response was complete. */
  aborted: boolean;
  /** Resolves when the exchange is over: response finished, or the connection closed. */
  finished: Promise<void>;
}

/** The handle a test holds on a running fake upstream. */
export interface FakeUpstream {
  /** Origin, e.g. http://127.0.0.1:40123 */
  url: string;
  /** The base URL a channel of this provider type should be configured with. */
  baseUrl: string;
  /** Every request received, oldest first. */
  requests: RecordedRequest[];
  /** The provider key the fake accepts. */
  key: string;
  /** Answer every following request with `scenario`. */
  setScenario(scenario: ScenarioInput): void;
  /** Answer only the next request with `scenario` (queued; used before the persistent one). */
  queueScenario(scenario: ScenarioInput): void;
  /** The most recent request (throws when there is none). */
  last(): RecordedRequest;
  close(): Promise<void>;
}

/** A response helper handed to provider handlers. */
export interface Exchange {
  req: RecordedRequest;
  res: ServerResponse;
  scenario: Scenario;
  /** Send a JSON body with a status and extra headers. */
  json(status: number, body: unknown, headers?: Record<string, string>): void;
  /** Send SSE events (each already formatted, blank line included), honouring the scenario's delays and faults. */
  sse(events: string[], options?: { resetAfter?: number }): Promise<void>;
  /** Destroy the connection without answering. */
  reset(): void;
}

export type Handler = (exchange: Exchange) => Promise<void> | void;

export function asScenario(input: ScenarioInput): Scenario {
  return typeof input === 'string' ? { name: input } : input;
}

/** Read a fixture file from test/fixtures/<provider>/<name>. */
export function fixtureText(provider: string, name: string): string {
  return readFileSync(new URL(`../../fixtures/${provider}/${name}`, import.meta.url), 'utf8');
}

export function fixtureJson<T = Record<string, unknown>>(provider: string, name: string): T {
  return JSON.parse(fixtureText(provider, name)) as T;
}

/**
 * Split an .sse fixture into its events, keeping each event's exact text (and its own line endings:
 * Gemini uses CRLF) so a replay is byte-identical.
 */
export function fixtureEvents(provider: string, name: string): string[] {
  const text = fixtureText(provider, name);
  const separator = text.includes('\r\n\r\n') ? '\r\n\r\n' : '\n\n';
  return text
    .split(separator)
    .filter((event) => event.trim() !== '')
    .map((event) => `${event}${separator}`);
}

/** The JSON payload of a `data:` line of one SSE event (undefined for comments, [DONE] or no data). */
export function eventData(event: string): Record<string, unknown> | undefined {
  const line = event.split(/\r?\n/).find((l) => l.startsWith('data:'));
  if (!line) return undefined;
  const data = line.slice(5).trim();
  if (!data.startsWith('{')) return undefined;
  return JSON.parse(data) as Record<string, unknown>;
}

/** Words with their leading whitespace, so joining the pieces gives the text back exactly. */
export function pieces(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** Split a string in `n` roughly equal parts (tool-call arguments streamed in fragments). */
export function fragments(text: string, n: number): string[] {
  const size = Math.ceil(text.length / n);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** 200 words of filler for slow streams. */
export const LONG_TEXT = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');

/** Start a fake on 127.0.0.1:0 that answers with `handler`. */
export async function startFakeServer(options: {
  key: string;
  baseUrl: (origin: string) => string;
  handler: Handler;
}): Promise<FakeUpstream> {
  const requests: RecordedRequest[] = [];
  const queue: Scenario[] = [];
  let scenario: Scenario = { name: 'text' };

  const server: Server = createServer((incoming: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = raw ? (JSON.parse(raw) as unknown) : undefined;
      } catch {
        body = undefined;
      }
      const url = new URL(incoming.url ?? '/', 'http://fake');
      let finish: () => void = () => undefined;
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const current = queue.shift() ?? scenario;
      const req: RecordedRequest = {
        method: incoming.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: incoming.headers,
        body,
        raw,
        scenario: current,
        aborted: false,
        finished,
      };
      requests.push(req);
      res.on('close', () => {
        if (!res.writableFinished) req.aborted = true;
        finish();
      });
      void answer(req, res, current).catch(() => {
        if (!res.destroyed) res.destroy();
      });
    });
  });

  async function answer(req: RecordedRequest, res: ServerResponse, current: Scenario): Promise<void> {
    const exchange: Exchange = {
      req,
      res,
      scenario: current,
      json(status, body, headers = {}) {
        if (res.destroyed) return;
        const text = JSON.stringify(body);
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          ...headers,
        });
        res.end(text);
      },
      async sse(events, sseOptions = {}) {
        if (res.destroyed) return;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
        });
        res.flushHeaders();
        const delay = current.chunkDelayMs ?? 1;
        for (let i = 0; i < events.length; i++) {
          if (res.destroyed) return;
          if (sseOptions.resetAfter !== undefined && i === sseOptions.resetAfter) {
            res.socket?.destroy();
            return;
          }
          res.write(events[i]);
          // A pause between events makes each one its own TCP read, as a real token stream is.
          if (delay > 0) await sleep(delay);
        }
        if (current.endDelayMs) await sleep(current.endDelayMs);
        if (!res.destroyed) res.end();
      },
      reset() {
        res.socket?.destroy();
      },
    };
    if (current.firstByteDelayMs) {
      await sleep(current.firstByteDelayMs);
      if (res.destroyed) return;
    }
    if (current.name === 'reset_before_headers') {
      exchange.reset();
      return;
    }
    await options.handler(exchange);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: origin,
    baseUrl: options.baseUrl(origin),
    requests,
    key: options.key,
    setScenario(input) {
      scenario = asScenario(input);
      queue.length = 0;
    },
    queueScenario(input) {
      queue.push(asScenario(input));
    },
    last() {
      const last = requests[requests.length - 1];
      if (!last) throw new Error('the fake upstream has received no request');
      return last;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A header's single value (first of repeated ones). */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Canonical (OpenAI-shaped) description of what a scenario answers, for assertions. */
export interface CanonicalAnswer {
  content: string | null;
  reasoning: string | null;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  finish: 'stop' | 'tool_calls';
  usage: { prompt: number; completion: number; cached: number; reasoning: number };
}

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
