import { Agent, type Dispatcher } from 'undici';
import type { UpstreamErrorInfo, UpstreamHttpRequest } from '../../providers/types.js';
import type { ChannelTimeouts } from '../ports.js';

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
}

/**
 * Upstream HTTP over undici keep-alive pools (one Agent, one pool per origin; DESIGN.md §2 rule 3).
 * Time limits: connect, first byte (response headers), idle between body chunks, and a total deadline.
 */
export class UpstreamClient {
  readonly #agent: Agent;
  /** Upstream URLs split into origin and path once (channels call the same few endpoints). */
  readonly #targets = new Map<string, { origin: string; path: string }>();

  constructor(options: { connectTimeoutMs?: number; connections?: number } = {}) {
    this.#agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connections: options.connections ?? 512,
      connect: { timeout: options.connectTimeoutMs ?? 10_000 },
    });
  }

  /** Send a request; `signal` (an AbortSignal or an emitter of `abort`) aborts it (client gone, deadline). */
  async send(
    req: UpstreamHttpRequest,
    timeouts: Required<ChannelTimeouts>,
    signal: Dispatcher.RequestOptions['signal'],
  ): Promise<UpstreamResponse> {
    const { origin, path } = this.target(req.url);
    const res = await this.#agent.request({
      origin,
      path,
      method: req.method,
      headers: req.headers,
      body: req.form ?? req.body,
      signal,
      headersTimeout: timeouts.firstByteMs,
      bodyTimeout: timeouts.idleMs,
    });
    return { status: res.statusCode, headers: res.headers, body: res.body };
  }

  /** What undici's `request(url)` does with a URL (origin, path with query), remembered per URL. */
  private target(url: string): { origin: string; path: string } {
    let target = this.#targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname };
      if (this.#targets.size >= MAX_REMEMBERED_URLS) this.#targets.clear();
      this.#targets.set(url, target);
    }
    return target;
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** URLs whose parts are remembered; beyond this the memo starts over (URLs with per-request queries). */
const MAX_REMEMBERED_URLS = 1000;

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** Map a transport failure (no HTTP answer) to what it means for the caller and for failover. */
export function transportErrorInfo(error: unknown, channelName: string, totalDeadlineHit: boolean): UpstreamErrorInfo {
  const code = (error as { code?: string } | null)?.code ?? '';
  if (totalDeadlineHit || TIMEOUT_CODES.has(code)) {
    return {
      status: 504,
      code: 'upstream_timeout',
      message: `Upstream ${channelName} did not answer in time`,
      retryable: true,
    };
  }
  const detail = code || (error instanceof Error ? error.message : 'connection failed');
  return {
    status: 502,
    code: 'upstream_error',
    message: `Could not reach upstream ${channelName} (${detail})`,
    retryable: true,
  };
}

/** Read a whole (small) upstream body as text, e.g. an error body. */
export async function readText(body: UpstreamResponse['body'], limit = 64 * 1024): Promise<string> {
  let text = '';
  for await (const chunk of body) {
    if (text.length < limit) text += (chunk as Buffer).toString('utf8');
  }
  return text.length > limit ? text.slice(0, limit) : text;
}
