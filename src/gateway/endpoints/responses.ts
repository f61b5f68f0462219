/**
 * POST /v1/responses: the OpenAI Responses API over any upstream. Per attempt: a channel whose adapter
 * serves `/responses` itself (OpenAI) gets the client's body and its answer and events go back as they came
 * (DESIGN.md §2 rule 4); any other channel gets the canonical chat translation, and its answer is made a
 * response object / the Responses event sequence. `store` keeps the response (../responses/state.ts) after
 * the answer; `previous_response_id` sticks to the channel and key that hold the conversation upstream, or
 * rebuilds the conversation from stored items for channels that keep none.
 */
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import { chatToResponse, fromResponsesUsage, type ResponseIds } from '../../providers/openai/responses/from-chat.js';
import { ResponsesStreamEncoder, responsesEvent } from '../../providers/openai/responses/stream-encoder.js';
import { inputItems, isOpenAiOnly, responsesToChat } from '../../providers/openai/responses/to-chat.js';
import type { ResponseObject, ResponsesRequest } from '../../providers/openai/responses/types.js';
import { isRecord } from '../../providers/shared/json.js';
import type { ChatCompletion, ChatRequest, ChatUsage, JsonObject } from '../../providers/types.js';
import { approximatePromptTokens, fromUsage, promptShape, type TokenCounts } from '../accounting.js';
import { completeChat, streamChat } from '../pipeline/chat-attempt.js';
import type { Attempt } from '../pipeline/dispatch.js';
import { clientFault, UpstreamFailure } from '../pipeline/failure.js';
import type { RequestLedger } from '../pipeline/ledger.js';
import type { Target } from '../pipeline/route.js';
import { estimateCompletion } from '../pipeline/settle.js';
import { checkResponsesBody } from '../responses/checks.js';
import { upstreamBody } from '../responses/conversation.js';
import { relayResponsesStream } from '../responses/relay.js';
import type { ResponseStore, StoredResponse } from '../responses/state.js';
import type { Endpoint, Exchange } from './endpoint.js';

/** The conversation a follow-up (`previous_response_id`) continues. */
export interface FollowUp {
  previous: StoredResponse;
  /** Every earlier input and output item, in order. */
  items: JsonObject[];
}

export interface ResponsesCall {
  body: ResponsesRequest;
  /** The canonical request (history included), for translated channels and for estimates. */
  chat: ChatRequest;
  /** Why the body has no canonical form (a hosted tool, a file input): only an OpenAI channel can serve it. */
  untranslatable: ApiError | undefined;
  /** This request's input items. */
  input: JsonObject[];
  followUp: FollowUp | undefined;
  /** Set for a background run: the id its queued response was given. */
  backgroundId: string | undefined;
  /** The translated stream's encoder (made with the sink). */
  encoder: ResponsesStreamEncoder | undefined;
  /** Set while an attempt relays an upstream's own stream: the last sequence number sent. */
  relay: { sequence: number } | undefined;
}

/** A non-stream answer: the response object (and the upstream's own bytes, when they can go as they came). */
export interface ResponsesResult {
  response: ResponseObject;
  raw?: string | undefined;
  usage: ChatUsage | undefined;
  completion?: ChatCompletion | undefined;
}

export function previousNotFound(id: string, why = ''): ApiError {
  return new ApiError('previous_response_not_found', `Previous response with id '${id}' not found.${why}`, {
    param: 'previous_response_id',
  });
}

/** The canonical form of a body; a stand-in holding its text when it has none (for the estimates). */
function canonicalOf(body: ResponsesRequest, history: JsonObject[]): Pick<ResponsesCall, 'chat' | 'untranslatable'> {
  try {
    return { chat: responsesToChat(body, history), untranslatable: undefined };
  } catch (error) {
    if (!(error instanceof ApiError) || !isOpenAiOnly(error)) throw error;
    const text = JSON.stringify([body.instructions ?? '', history, body.input ?? '', body.tools ?? []]);
    return { chat: { model: body.model, messages: [{ role: 'user', content: text }] }, untranslatable: error };
  }
}

/** A translated channel cannot serve an untranslatable body; another target (an OpenAI channel) may. */
function notHere(refusal: ApiError): UpstreamFailure {
  return new UpstreamFailure({ status: 400, code: 'bad_request', message: refusal.message, retryable: true });
}

/** Input items with ids (as `GET /v1/responses/{id}/input_items` lists them). */
function withIds(items: JsonObject[], responseId: string): JsonObject[] {
  const base = responseId.replace(/^resp_/, '');
  return items.map((item, i) => {
    if (typeof item.id === 'string') return item;
    const prefix = item.type === 'function_call' ? 'fc' : item.type === 'function_call_output' ? 'fco' : 'msg';
    return { id: `${prefix}_${base}i${i}`, ...(item.type === undefined ? { type: 'message' } : {}), ...item };
  });
}

export interface ResponsesEndpointDeps {
  store: ResponseStore;
  clock: Clock;
}

/** The endpoint, and where the route leaves a follow-up's conversation for it (looked up before `serve`). */
export function createResponsesEndpoint(deps: ResponsesEndpointDeps): {
  endpoint: Endpoint<ResponsesCall, ResponsesResult | undefined>;
  followUps: WeakMap<FastifyRequest, FollowUp>;
  /** Requests the route runs in the background (their response ids). */
  backgrounds: WeakMap<FastifyRequest, string>;
} {
  const followUps = new WeakMap<FastifyRequest, FollowUp>();
  const backgrounds = new WeakMap<FastifyRequest, string>();

  const idsOf = (ledger: RequestLedger): ResponseIds => ({
    id: responseIdOf(ledger.ctx.requestId),
    createdAt: Math.floor(deps.clock.now() / 1000),
  });

  const providerKeyOf = (attempt: Attempt): string | null =>
    attempt.target.channel.keys.find((k) => k.secret === attempt.upstream.apiKey)?.id ?? null;

  /** Keep the response (`store`, default true), after the answer: never awaited. */
  const save = (x: Exchange<ResponsesCall>, attempt: Attempt, response: ResponseObject, heldUpstream: boolean) => {
    let native = heldUpstream;
    const { call, ledger } = x;
    if (call.body.store === false || typeof response.id !== 'string') return;
    if (call.backgroundId !== undefined) {
      // The hub's own id (the one the client was given when queued); the conversation is kept here.
      response.id = call.backgroundId;
      response.background = true;
      native = false;
    }
    const { caller } = ledger.ctx;
    deps.store.save({
      id: response.id,
      owner: { orgId: caller.orgId, keyId: caller.keyId },
      userId: caller.userId,
      model: call.body.model,
      channelId: attempt.target.channel.id,
      providerKeyId: providerKeyOf(attempt),
      native,
      previousResponseId: call.body.previous_response_id ?? null,
      input: withIds(call.input, response.id),
      response,
      createdAt: deps.clock.now(),
    });
  };

  /** A follow-up of a response the upstream holds goes to the same key. */
  const pinKey = (call: ResponsesCall, attempt: Attempt) => {
    const previous = call.followUp?.previous;
    if (!previous?.native || attempt.target.channel.id !== previous.channelId) return;
    const key = attempt.target.channel.keys.find((k) => k.id === previous.providerKeyId);
    if (previous.providerKeyId !== null && !key)
      throw previousNotFound(previous.id, ' The provider key that holds it is gone.');
    if (key) attempt.upstream.apiKey = key.secret;
  };

  async function completeNative(x: Exchange<ResponsesCall>, attempt: Attempt): Promise<ResponsesResult> {
    const { channel } = attempt.target;
    const { adapter } = channel;
    const native = adapter.responses;
    if (!native) throw new Error('completeNative on a channel without /responses');
    const http = clientFault(() => native.buildRequest(upstreamBody(x.call), attempt.upstream));
    const res = await x.upstream.send(http, channel.timeouts, attempt.signal);
    attempt.upstreamStatus = res.status;
    if (res.status >= 400) {
      const text = await res.body.text();
      throw new UpstreamFailure(adapter.parseError(res.status, text, res.headers));
    }
    const text = await res.body.text();
    x.ledger.markFirstToken();
    const parsed = JSON.parse(text) as unknown;
    if (!isRecord(parsed) || parsed.object !== 'response' || typeof parsed.id !== 'string')
      throw new UpstreamFailure({
        status: 502,
        code: 'upstream_error',
        message: `Upstream ${channel.name} sent a malformed response`,
        retryable: true,
      });
    const response = parsed as unknown as ResponseObject;
    let raw: string | undefined = text;
    const followUp = x.call.followUp;
    if ((followUp && !followUp.previous.native) || x.call.backgroundId !== undefined) {
      // The conversation was sent whole: the client still sees which response this one follows.
      if (followUp) response.previous_response_id = followUp.previous.id;
      raw = undefined;
    }
    save(x, attempt, response, true);
    return { response, raw, usage: fromResponsesUsage(parsed.usage) };
  }

  const endpoint: Endpoint<ResponsesCall, ResponsesResult | undefined> = {
    kind: 'responses',
    accept(request) {
      checkResponsesBody(request.body);
      const body = request.body as ResponsesRequest;
      const backgroundId = backgrounds.get(request);
      if (body.background === true && backgroundId === undefined)
        throw new ApiError('bad_request', 'Background responses are not supported by this gateway yet', {
          param: 'background',
        });
      const followUp = followUps.get(request);
      const { chat, untranslatable } = clientFault(() => canonicalOf(body, followUp?.items ?? []));
      return {
        body,
        chat,
        untranslatable,
        input: inputItems(body.input),
        followUp,
        backgroundId,
        encoder: undefined,
        relay: undefined,
      };
    },
    model: (call) => call.body.model,
    streams: (call) => call.body.stream === true,
    estimate: ({ chat, body }) => ({
      promptTokens: approximatePromptTokens(chat),
      shape: promptShape(chat),
      maxOutputTokens: typeof body.max_output_tokens === 'number' ? body.max_output_tokens : null,
    }),
    sink(call, ledger) {
      const encoder = new ResponsesStreamEncoder(call.body, idsOf(ledger), call.body.model);
      call.encoder = encoder;
      return {
        acceptsRaw: false,
        raw: () => '',
        chunk: (chunk) => encoder.push(chunk),
        end: (usage) => encoder.end(usage),
        error: (info) =>
          call.relay
            ? responsesEvent('error', ++call.relay.sequence, { code: info.code, message: info.message, param: null })
            : encoder.error(info),
      };
    },
    targets(x, planned: Target[]): Target[] {
      // What only OpenAI runs, on a model without an OpenAI channel: the refusal itself, naming the field.
      const refusal = x.call.untranslatable;
      if (refusal && !planned.some((t) => t.channel.adapter.responses !== undefined)) throw refusal;
      const previous = x.call.followUp?.previous;
      if (!previous?.native) return planned;
      const sticky = planned.filter((t) => t.channel.id === previous.channelId);
      if (sticky.length > 0) return sticky;
      // Another provider can take the conversation rebuilt from the stored items; another OpenAI channel or
      // key would not know the id (and its reasoning items are encrypted for the one that made them).
      const translated = planned.filter((t) => t.channel.adapter.responses === undefined);
      if (translated.length > 0) return translated;
      throw previousNotFound(previous.id, ' The channel that holds it does not serve this model now.');
    },
    async attempt(x, attempt) {
      const { call } = x;
      pinKey(call, attempt);
      call.relay = undefined;
      const native = attempt.target.channel.adapter.responses !== undefined;
      if (native) {
        if (!x.sink) return completeNative(x, attempt);
        const response = await relayResponsesStream(x, attempt);
        if (response) save(x, attempt, response, true);
        return undefined;
      }
      if (call.untranslatable) throw notHere(call.untranslatable);
      if (x.sink) {
        await streamChat(x.upstream, call.chat, x.ledger, x.sink, x.client, attempt);
        const encoder = call.encoder;
        if (encoder?.finished && encoder.response.status !== 'failed' && !x.client.gone)
          save(x, attempt, encoder.response, false);
        return undefined;
      }
      const { completion } = await completeChat(x.upstream, call.chat, x.ledger, attempt, false);
      const response = chatToResponse(completion, call.body, idsOf(x.ledger), call.body.model);
      save(x, attempt, response, false);
      return { response, usage: completion.usage, completion };
    },
    answer(call, result) {
      if (!result) throw new Error('a non-stream responses attempt returned no answer');
      const { response, raw, usage, completion } = result;
      let tokens: TokenCounts | Promise<TokenCounts>;
      if (usage) tokens = fromUsage(usage);
      else if (completion) tokens = estimateCompletion(call.chat, completion);
      else tokens = estimateResponse(call.chat, response);
      return { body: response, raw, tokens };
    },
  };
  return { endpoint, followUps, backgrounds };
}

/** The response id of a request (`req_…` → `resp_…`): known before it runs, so a background run's is too. */
export function responseIdOf(requestId: string): string {
  return `resp_${requestId.replace(/^req_/, '')}`;
}

/** Tokens of a native response that reported no usage: its output text estimated. */
function estimateResponse(chat: ChatRequest, response: ResponseObject): Promise<TokenCounts> {
  const completion: ChatCompletion = {
    id: response.id,
    object: 'chat.completion',
    created: response.created_at,
    model: response.model,
    choices: [
      { index: 0, message: { role: 'assistant', content: JSON.stringify(response.output) }, finish_reason: 'stop' },
    ],
  };
  return estimateCompletion(chat, completion);
}
