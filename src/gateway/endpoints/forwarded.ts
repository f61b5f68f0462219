/**
 * One attempt of a forwarded API (count_tokens, moderations, legacy completions, rerank): the client's body
 * goes to a channel whose adapter declares the API (model renamed) and the JSON answer comes back. Which
 * channel serves what is the adapter's declaration, never a provider's name.
 */
import type { ForwardedApi, JsonObject, ProviderAdapter } from '../../providers/types.js';
import type { Attempt } from '../pipeline/dispatch.js';
import { clientFault, UpstreamFailure } from '../pipeline/failure.js';
import { readText, type UpstreamResponse } from '../pipeline/upstream.js';
import type { Exchange } from './endpoint.js';

/** Whether the channel's adapter calls `api` upstream. */
export function servesForwarded(adapter: ProviderAdapter, api: ForwardedApi): boolean {
  return adapter.endpoints.includes(api) && adapter.buildForwardedRequest !== undefined && !adapter.inProcess;
}

/** This channel cannot serve the API; another target of the model may (retryable, not the channel's fault). */
export function notServed(attempt: Attempt, what: string): UpstreamFailure {
  const { channel } = attempt.target;
  return new UpstreamFailure({
    status: 400,
    code: 'bad_request',
    message: `Channel ${channel.name} (${channel.type}) does not serve ${what}`,
    retryable: true,
  });
}

/** Send the forwarded request; an upstream error status becomes the mapped failure. */
export async function sendForwarded(
  x: Exchange<unknown>,
  attempt: Attempt,
  api: ForwardedApi,
  body: JsonObject,
  clientHeaders?: Record<string, string>,
): Promise<UpstreamResponse> {
  const { channel } = attempt.target;
  const { adapter } = channel;
  const build = adapter.buildForwardedRequest;
  if (!build) throw notServed(attempt, api);
  const http = clientFault(() => build.call(adapter, api, body, attempt.upstream, clientHeaders));
  const res = await x.upstream.send(http, channel.timeouts, attempt.signal);
  attempt.upstreamStatus = res.status;
  if (res.status >= 400)
    throw new UpstreamFailure(adapter.parseError(res.status, await readText(res.body), res.headers));
  return res;
}

/** A non-stream forwarded call: the answer in the inbound protocol's shape, and the upstream's bytes when unchanged. */
export async function forwardJson(
  x: Exchange<unknown>,
  attempt: Attempt,
  api: ForwardedApi,
  body: JsonObject,
  clientHeaders?: Record<string, string>,
): Promise<{ body: JsonObject; raw: string | undefined }> {
  const res = await sendForwarded(x, attempt, api, body, clientHeaders);
  const text = await res.body.text();
  x.ledger.markFirstToken();
  const parsed = JSON.parse(text) as unknown;
  const { adapter } = attempt.target.channel;
  if (adapter.parseForwardedResponse) return { body: adapter.parseForwardedResponse(api, parsed), raw: undefined };
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new UpstreamFailure({
      status: 502,
      code: 'upstream_error',
      message: `Upstream ${attempt.target.channel.name} sent a malformed ${api} response`,
      retryable: true,
    });
  return { body: parsed as JsonObject, raw: text };
}
