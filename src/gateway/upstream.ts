import { Agent, type Dispatcher, request } from 'undici';
import type { ChannelTimeouts } from '../modules/channels/options.js';
import type { UpstreamErrorInfo, UpstreamHttpRequest } from '../providers/types.js';

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

  constructor(options: { connectTimeoutMs?: number; connections?: number } = {}) {
    this.#agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connections: options.connections ?? 512,
      connect: { timeout: options.connectTimeoutMs ?? 10_000 },
    });
  }

  /** Send a request; `signal` aborts it (client gone, total deadline). */
  async send(
    req: UpstreamHttpRequest,
    timeouts: Required<ChannelTimeouts>,
    signal: AbortSignal,
  ): Promise<UpstreamResponse> {
    const res = await request(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
      dispatcher: this.#agent,
      headersTimeout: timeouts.firstByteMs,
      bodyTimeout: timeouts.idleMs,
    });
    return { status: res.statusCode, headers: res.headers, body: res.body };
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

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
