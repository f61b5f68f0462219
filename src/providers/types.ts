/**
 * The gateway's canonical wire format is OpenAI Chat Completions: every inbound protocol is translated
 * to it and every upstream adapter translates from it. These types cover what the gateway reads or
 * writes; unknown fields are carried through untouched (index signatures), never dropped silently.
 * Reference: ../shared/PROTOCOLS.md §1.
 */

import type { FormData } from 'undici';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue | undefined };

export interface ChatTextPart {
  type: 'text';
  text: string;
}
export interface ChatImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}
export type ChatContentPart = ChatTextPart | ChatImagePart | ({ type: string } & JsonObject);

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  content?: string | ChatContentPart[] | null;
  name?: string;
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
  /** DeepSeek-style reasoning text, on assistant messages. */
  reasoning_content?: string | null;
  [key: string]: unknown;
}

export interface ChatTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: JsonObject; strict?: boolean };
}

export type ChatToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  n?: number | null;
  stop?: string | string[] | null;
  seed?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  tools?: ChatTool[];
  tool_choice?: ChatToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: { type: 'text' | 'json_object' | 'json_schema'; json_schema?: JsonObject };
  reasoning_effort?: string;
  user?: string;
  [key: string]: unknown;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number; [key: string]: unknown };
  completion_tokens_details?: { reasoning_tokens?: number; [key: string]: unknown };
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: {
      role: 'assistant';
      content: string | null;
      reasoning_content?: string | null;
      tool_calls?: ChatToolCall[];
      refusal?: string | null;
    };
    finish_reason: FinishReason | null;
    logprobs?: unknown;
  }>;
  usage?: ChatUsage;
  system_fingerprint?: string | null;
  [key: string]: unknown;
}

export interface ChatToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: {
      role?: 'assistant';
      content?: string | null;
      reasoning_content?: string | null;
      tool_calls?: ChatToolCallDelta[];
      refusal?: string | null;
    };
    finish_reason: FinishReason | null;
    logprobs?: unknown;
  }>;
  usage?: ChatUsage | null;
  [key: string]: unknown;
}

export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
  [key: string]: unknown;
}

export interface EmbeddingsResponse {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** One server-sent event as parsed from an upstream stream. */
export interface SseEvent {
  event?: string | undefined;
  data: string;
}

/** Everything an adapter needs to address one upstream (resolved by the router; secrets decrypted). */
export interface UpstreamTarget {
  /** Base URL without trailing slash, e.g. https://api.openai.com/v1 */
  baseUrl: string;
  apiKey: string;
  /** Model name the upstream expects. */
  upstreamModel: string;
  /** Extra headers configured on the channel. */
  headers: Record<string, string>;
  /** Provider-specific options (e.g. Azure `apiVersion`, `deployment`). */
  options: Record<string, string>;
}

/** An HTTP request the dispatcher sends upstream. `body` is already serialized JSON. */
export interface UpstreamHttpRequest {
  method: 'POST' | 'GET';
  url: string;
  headers: Record<string, string>;
  body?: string;
  /**
   * A multipart body instead (uploads): undici writes its content type with the boundary, and the form,
   * held in memory, can be sent again on failover.
   */
  form?: FormData;
}

/** One file of a multipart upload, held in memory (size-limited at the edge). */
export interface UploadedFile {
  /** The form field it came in (`file`, `image`, `image[]`, `mask`). */
  readonly field: string;
  readonly filename: string;
  readonly contentType: string;
  readonly data: Buffer;
}

/** A multipart/form-data body: its text fields in order (repeated names kept) and its files. */
export interface MultipartForm {
  readonly fields: ReadonlyArray<readonly [string, string]>;
  readonly files: readonly UploadedFile[];
}

/**
 * The media APIs of OpenAI's shape: image generation (JSON), image edits (multipart), audio transcription
 * and translation (multipart), speech (JSON in, audio bytes out).
 */
export type MediaApi = 'image_generations' | 'image_edits' | 'transcriptions' | 'translations' | 'speech';

/** A media request as the client sent it (model not yet renamed): a JSON body or a multipart form. */
export type MediaRequest =
  | { readonly api: 'image_generations' | 'speech'; readonly json: JsonObject }
  | { readonly api: 'image_edits' | 'transcriptions' | 'translations'; readonly form: MultipartForm };

/** What an upstream error means for the caller and for routing. */
export interface UpstreamErrorInfo {
  /** HTTP status the gateway returns to its client. */
  status: number;
  /** AI Hub error code (see src/core/errors.ts). */
  code:
    | 'bad_request'
    | 'upstream_auth_failed'
    | 'rate_limit_exceeded'
    | 'upstream_error'
    | 'upstream_timeout'
    | 'model_not_found'
    | 'insufficient_quota';
  message: string;
  /** Whether another target may succeed (429, 5xx, overloaded) — used by failover. */
  retryable: boolean;
  retryAfterSeconds?: number;
}

/**
 * Token figures an upstream has reported so far in a stream that has not ended (Anthropic sends its input
 * counts in message_start, Gemini its prompt count on every chunk). A field is absent when not reported;
 * for a stream cut off early the gateway estimates only the absent ones.
 */
export interface ReportedUsage {
  /** Prompt tokens, cached ones included (OpenAI's meaning). */
  prompt?: number;
  cached?: number;
  completion?: number;
  reasoning?: number;
}

/** Stateful translator of one upstream stream into canonical chunks (one instance per request). */
export interface StreamTranslator {
  /** Translate one upstream SSE event into zero or more canonical chunks. */
  push(event: SseEvent): ChatCompletionChunk[];
  /** Called at end of stream; returns any chunks still owed (e.g. a final finish chunk). */
  end(): ChatCompletionChunk[];
  /** Usage figures seen so far, for a stream that breaks off before its usage chunk. */
  reported?(): ReportedUsage;
}

/** A /v1/messages request body as the client sent it (Anthropic Messages; only `model` is read). */
export interface MessagesBody {
  model: string;
  [key: string]: unknown;
}

/** One Anthropic Messages stream relayed to an Anthropic client as the upstream sent it. */
export interface MessagesRelay {
  /** SSE text for the client for one upstream event; throws UpstreamStreamError on an `error` event. */
  push(event: SseEvent): string;
  /** Whether the upstream's `message_stop` arrived. */
  readonly finished: boolean;
  /** The final usage (once `message_delta` reported the output count), else null. */
  usage(): ChatUsage | null;
  /** Usage figures seen so far (input and cache counts from `message_start`). */
  reported(): ReportedUsage;
  /** Text and thinking streamed so far, for estimating output tokens the upstream never reported. */
  output(): { text: string; reasoning: string };
}

/**
 * Same-protocol path of the gateway's Anthropic-compatible endpoint: an upstream that speaks the Messages
 * API natively gets the client's body as it came (model renamed), and the answer goes back as it came, so
 * thinking blocks, signatures, redacted_thinking and usage placement survive exactly.
 */
export interface MessagesPassthrough {
  /** The upstream request for a client's body; `betas` is the client's `anthropic-beta` header. */
  buildRequest(body: MessagesBody, target: UpstreamTarget, betas: string | undefined): UpstreamHttpRequest;
  /** A non-stream answer for the client (its `model` set to the name the client asked for), with its usage. */
  relayMessage(body: unknown, requestedModel: string): { message: JsonObject; usage: ChatUsage };
  createRelay(requestedModel: string): MessagesRelay;
}

/**
 * Prompt tokens a provider bills beyond the text of the messages: its chat template's framing. Budget
 * reservations add these to the quick size guess, so a burst of tiny prompts cannot outrun a budget
 * (docs/limits.md lists each provider's figures and where they come from).
 */
export interface PromptOverhead {
  /** Once per request: reply priming, a default system header. */
  readonly perRequest: number;
  /** Per message: role markers and separators. */
  readonly perMessage: number;
  /** Once per request that declares tools: a hidden tool-use system prompt. */
  readonly withTools: number;
}

/** One provider option a channel may set (`options.provider`), as the console's channel form shows it. */
export interface ProviderOptionField {
  key: string;
  kind: 'text' | 'select' | 'number';
  /** The values a `select` offers. */
  choices?: readonly string[];
  placeholder?: string;
  /** What the adapter uses when the channel sets nothing. */
  default?: string;
  required?: boolean;
}

/** The upstream APIs an adapter can call: canonical chat, native Anthropic Messages, embeddings, forwarded APIs. */
export type ProviderEndpoint = 'chat' | 'messages' | 'embeddings' | ForwardedApi | MediaApi;

/**
 * Upstream APIs whose request is the client's JSON body in the inbound protocol's own shape (only `model`
 * renamed): Anthropic `messages/count_tokens`, OpenAI `moderations` and legacy `completions`, and `rerank`
 * (the Cohere/Jina shape). An adapter that declares one in `endpoints` builds its request with
 * `buildForwardedRequest`.
 */
export type ForwardedApi = 'count_tokens' | 'moderations' | 'completions' | 'rerank';

/** Inbound protocols whose bytes may go to and come from the upstream unchanged. */
export type PassThroughProtocol = 'chat' | 'messages';

/** How a channel of a provider addresses its upstream. */
export interface ProviderBaseUrl {
  /** `default`: a public endpoint, overridable; `required`: every channel names its own; `none`: no network. */
  mode: 'default' | 'required' | 'none';
  default: string | null;
  /** A sample URL for the console's form. */
  example?: string;
}

/**
 * Served inside the gateway process, without HTTP (the mock). The gateway calls this instead of the
 * adapter's HTTP methods whenever it is present.
 */
export interface InProcessTransport {
  /** A complete answer for a non-stream request. */
  chat(request: ChatRequest, ids: { id: string; created: number }): ChatCompletion;
  /** The same answer as canonical stream chunks, ending with a usage chunk (`choices: []`). */
  chatChunks(request: ChatRequest, ids: { id: string; created: number }): ChatCompletionChunk[];
  embeddings(request: EmbeddingsRequest): EmbeddingsResponse;
  /** Pause between stream chunks for a channel's provider options (0: none). */
  chunkDelayMs(options: Record<string, string>): number;
}

/**
 * What a provider is, as the gateway and the console need to know it: everything outside src/providers/
 * asks these questions instead of testing a provider's id.
 */
export interface ProviderDeclaration {
  /** Registry id, e.g. 'openai' (only src/providers/ spells ids). */
  readonly id: string;
  /** Display name. */
  readonly label: string;
  /** Whether a channel needs provider keys: `optional` for servers that may run without one. */
  readonly key: 'required' | 'optional' | 'none';
  readonly baseUrl: ProviderBaseUrl;
  /** The channel options the adapter reads (`options.provider`). */
  readonly options: readonly ProviderOptionField[];
  /** The upstream APIs it serves. */
  readonly endpoints: readonly ProviderEndpoint[];
  /** Inbound protocols whose upstream bytes may pass through unchanged. */
  readonly passThrough: readonly PassThroughProtocol[];
}

/** A provider adapter: pure transforms between the canonical format and one upstream wire format. */
export interface ProviderAdapter extends ProviderDeclaration {
  /** Whether the upstream speaks OpenAI Chat Completions (it is asked for stream usage the OpenAI way). */
  readonly openaiCompatible: boolean;
  /** Template tokens the upstream bills around a chat prompt (for reservations; settlement uses real usage). */
  readonly promptOverhead: PromptOverhead;
  buildChatRequest(request: ChatRequest, target: UpstreamTarget): UpstreamHttpRequest;
  parseChatResponse(body: unknown, request: ChatRequest): ChatCompletion;
  createStreamTranslator(request: ChatRequest, ids: { id: string; created: number }): StreamTranslator;
  buildEmbeddingsRequest?(request: EmbeddingsRequest, target: UpstreamTarget): UpstreamHttpRequest;
  parseEmbeddingsResponse?(body: unknown, request: EmbeddingsRequest): EmbeddingsResponse;
  parseError(status: number, body: string, headers: Record<string, string | string[] | undefined>): UpstreamErrorInfo;
  /**
   * The upstream request of a forwarded API the adapter declares in `endpoints` (the client's body, `model`
   * set to the upstream's; `clientHeaders` such as `anthropic-beta` are passed on where the API has them).
   */
  buildForwardedRequest?(
    api: ForwardedApi,
    body: JsonObject,
    target: UpstreamTarget,
    clientHeaders?: Record<string, string>,
  ): UpstreamHttpRequest;
  /**
   * A forwarded API's answer in the inbound protocol's shape, where the upstream's differs (a rerank
   * provider's own result shape); absent: the upstream's body is the answer as it came.
   */
  parseForwardedResponse?(api: ForwardedApi, body: unknown): JsonObject;
  /**
   * The upstream request of a media API the adapter declares in `endpoints`; throws
   * UnsupportedRequestError (naming the field and the provider) for what the upstream cannot do.
   */
  buildMediaRequest?(request: MediaRequest, target: UpstreamTarget): UpstreamHttpRequest;
  /** A JSON media answer in OpenAI's shape, where the upstream's differs (Imagen); absent: as it came. */
  parseMediaResponse?(api: MediaApi, body: unknown): JsonObject;
  /** Present when the upstream speaks Anthropic Messages natively (endpoint `messages`). */
  readonly messages?: MessagesPassthrough;
  /** Present when the provider answers in-process: the gateway then never calls the HTTP methods. */
  readonly inProcess?: InProcessTransport;
  /** Present when the upstream serves the OpenAI Responses API itself (`/v1/responses` passes through). */
  readonly responses?: ResponsesPassthrough;
  /** Present when the upstream lists its models (the console pre-fills a channel's models from it). */
  readonly modelList?: ModelListApi;
  /** Present when the upstream may tell the account's balance (resellers, DeepSeek, OpenRouter). */
  readonly balance?: BalanceApi;
}

/** The upstream's own list of models: `GET /models` and its kin. */
export interface ModelListApi {
  buildRequest(target: UpstreamTarget): UpstreamHttpRequest;
  /** The model ids in one answer (what a channel's routes name as upstream models). */
  parse(body: unknown): string[];
}

/**
 * An upstream account's credit as its provider reports it, in micro-units of `currency` (display only: it is
 * the provider's figure, not part of AI Hub's ledger). A figure the provider does not report is null.
 */
export interface UpstreamBalance {
  currency: string;
  remainingMicros: number | null;
  usedMicros: number | null;
  limitMicros: number | null;
}

/** An account-balance API: one or more GETs whose answers together give the balance. */
export interface BalanceApi {
  /** The requests for a channel, or null when its upstream has no balance API (`now`: epoch ms, for date ranges). */
  buildRequests(target: UpstreamTarget, now: number): UpstreamHttpRequest[] | null;
  /** The balance from the answers, in the order of the requests. */
  parse(bodies: unknown[], target: UpstreamTarget): UpstreamBalance;
}

/** Same-protocol path of the gateway's `/v1/responses`: the client's body goes upstream as it came (model renamed). */
export interface ResponsesPassthrough {
  buildRequest(body: Record<string, unknown>, target: UpstreamTarget): UpstreamHttpRequest;
}
