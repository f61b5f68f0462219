/**
 * Stage 5 of a /v1 request: settle it. Exactly one usage row per request, with the status the client
 * saw and the tokens to bill (the upstream's figures, else a tokenizer estimate of what it produced).
 */
import type { ApiError } from '../../core/errors.js';
import { toApiError } from '../../http/errors.js';
import type { ChatCompletion, ChatRequest } from '../../providers/types.js';
import { OutputAccumulator, type TokenCounts } from '../accounting.js';
import type { ClientStream } from '../client-stream.js';
import { errorBodyFor } from '../protocols.js';
import type { StreamSink } from './chat-attempt.js';
import type { Attempt } from './dispatch.js';
import { CLIENT_CLOSED, CommittedFailure, classifyFailure } from './failure.js';
import type { RequestLedger } from './ledger.js';

/** Settle a failed request (once) and return the error to send. */
export function fail(ledger: RequestLedger, error: unknown): ApiError {
  const apiError = toApiError(error);
  if (!ledger.settled) {
    ledger.respondedWith(errorBodyFor(ledger.ctx.endpoint, apiError, ledger.ctx.requestId));
    ledger.settle(apiError.status, apiError.code);
  }
  return apiError;
}

/** Headers a successful /v1 answer carries (known once a target is chosen). */
export function responseHeaders(ledger: RequestLedger, exposeChannel: boolean): Record<string, string> {
  const limits = ledger.admission?.headers ?? {};
  const cache = ledger.cache;
  if (cache !== null) {
    const headers: Record<string, string> = { ...limits, 'x-aihub-cache': cache };
    if (exposeChannel && ledger.channel) headers['x-aihub-channel'] = ledger.channel.id;
    return headers;
  }
  return exposeChannel && ledger.channel ? { ...limits, 'x-aihub-channel': ledger.channel.id } : limits;
}

/** Tokens of a non-stream answer whose upstream reported no usage. */
export function estimateCompletion(request: ChatRequest, completion: ChatCompletion): Promise<TokenCounts> {
  const output = new OutputAccumulator();
  for (const choice of completion.choices) {
    output.addText(choice.message.content ?? '');
    output.addText(choice.message.reasoning_content ?? '');
    for (const call of choice.message.tool_calls ?? []) output.addText(call.function.name + call.function.arguments);
  }
  return output.estimate(request);
}

/**
 * A stream attempt threw: settle the request with what the client got, or rethrow for the dispatcher when
 * the client has nothing yet (failover is still possible). Returns only when the answer was complete.
 */
export function settleBrokenStream(
  error: unknown,
  s: {
    /** The client has the whole answer, its end included. */
    answered: boolean;
    ledger: RequestLedger;
    sink: StreamSink;
    client: ClientStream;
    attempt: Attempt;
    tokens: () => TokenCounts | Promise<TokenCounts>;
  },
): void {
  const { ledger, client } = s;
  // The whole answer (and its end) was sent before the upstream's connection failed: a success.
  if (s.answered && !client.gone) {
    ledger.settle(200, null, s.tokens());
    return;
  }
  if (client.gone) {
    ledger.settle(CLIENT_CLOSED, 'client_closed', s.tokens());
    throw new CommittedFailure({
      status: CLIENT_CLOSED,
      code: 'upstream_error',
      message: 'client closed the connection',
      retryable: false,
    });
  }
  if (!client.started) throw error;
  // The client already has part of the answer: report the failure in the stream, bill what was produced.
  const info = classifyFailure(error, s.attempt.target.channel.name, s.attempt.timedOut(), true);
  client.end(s.sink.error(info));
  ledger.settle(info.status, info.code, s.tokens());
  throw new CommittedFailure(info);
}
