/**
 * POST /v1/messages/count_tokens: Anthropic's token counting API (Claude Code calls it before each turn).
 * A channel whose adapter declares `count_tokens` is asked (the client's body as it came, model renamed);
 * any other channel's count is the local tokenizer's over the canonical form of the body (the same figure
 * budget estimates use). Counting is free: the request is logged with no tokens and no cost.
 * Reference: https://docs.anthropic.com/en/api/messages-count-tokens
 */
import type { AnthropicMessagesRequest } from '../../providers/anthropic/types.js';
import type { ChatRequest, JsonObject } from '../../providers/types.js';
import { OutputAccumulator, ZERO_TOKENS } from '../accounting.js';
import type { Attempt } from '../pipeline/dispatch.js';
import { clientFault, UpstreamFailure } from '../pipeline/failure.js';
import { checkAnthropicMessages } from '../request-checks.js';
import type { Endpoint, Exchange } from './endpoint.js';
import { forwardJson, servesForwarded } from './forwarded.js';
import { canonicalOf } from './messages.js';

export interface CountTokensCall {
  body: JsonObject & { model: string };
  /** The canonical form, for a local count. */
  chat: ChatRequest;
  betas: string | undefined;
}

/** `{ input_tokens }`, from the upstream or counted here. */
type Counted = { input_tokens: number };

async function countHere(chat: ChatRequest): Promise<Counted> {
  const { prompt } = await new OutputAccumulator().estimate(chat);
  return { input_tokens: prompt };
}

async function askUpstream(x: Exchange<CountTokensCall>, attempt: Attempt): Promise<Counted> {
  const headers = x.call.betas ? { 'anthropic-beta': x.call.betas } : undefined;
  const { body } = await forwardJson(x, attempt, 'count_tokens', x.call.body, headers);
  const count = body.input_tokens;
  if (typeof count !== 'number' || !Number.isFinite(count))
    throw new UpstreamFailure({
      status: 502,
      code: 'upstream_error',
      message: `Upstream ${attempt.target.channel.name} sent a count_tokens answer without input_tokens`,
      retryable: true,
    });
  return { input_tokens: count };
}

export const countTokens: Endpoint<CountTokensCall, Counted> = {
  kind: 'count_tokens',
  accept(request) {
    // The Messages body without max_tokens (count_tokens has none): checked as a Messages body would be.
    const body = request.body as JsonObject & { model: string };
    checkAnthropicMessages(body && typeof body === 'object' ? { max_tokens: 1, ...body } : body);
    const { chat } = clientFault(() => canonicalOf({ max_tokens: 1, ...body } as unknown as AnthropicMessagesRequest));
    const betas = request.headers['anthropic-beta'];
    return { body, chat, betas: Array.isArray(betas) ? betas.join(',') : betas };
  },
  model: (call) => call.body.model,
  streams: () => false,
  // Nothing is generated and nothing billed: only request-count limits apply.
  estimate: () => ({ promptTokens: 0, maxOutputTokens: 0 }),
  sink: () => undefined,
  attempt(x, attempt) {
    if (servesForwarded(attempt.target.channel.adapter, 'count_tokens')) return askUpstream(x, attempt);
    x.ledger.markFirstToken();
    return countHere(x.call.chat);
  },
  answer: (_call, counted) => ({ body: counted, tokens: ZERO_TOKENS }),
};
