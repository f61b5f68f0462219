/**
 * A fake Anthropic Messages API (PROTOCOLS.md §3): POST /v1/messages with `x-api-key` and
 * `anthropic-version`, the documented request checks (max_tokens required, tool_result blocks right after
 * the tool_use turn, no empty text blocks), message bodies and the event-stream grammar
 * (message_start, content_block_start/delta/stop, message_delta, message_stop, ping, error).
 *
 * The text and tool-use streams replay the recorded SDK fixtures byte for byte; other answers are
 * generated in the same shapes. The Messages API always reports usage, so `omitUsage` is ignored here.
 */
import { answerAnthropicModels } from './accounts.js';
import {
  type CanonicalAnswer,
  type FakeUpstream,
  fixtureEvents,
  fixtureJson,
  fragments,
  header,
  isRecord,
  LONG_TEXT,
  pieces,
  startFakeServer,
} from './http.js';

type AnswerScenario = 'text' | 'tool_call' | 'reasoning' | 'cached_usage' | 'long_text';

interface AnthropicUsageCounts {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  thinking?: number;
}

interface Script {
  id: string;
  model: string;
  thinking?: { text: string; signature: string };
  text?: string;
  tools: Array<{ id: string; name: string; input: Record<string, unknown> }>;
  stopReason: 'end_turn' | 'tool_use';
  usage: AnthropicUsageCounts;
  /** Stream events served verbatim (a recorded fixture). */
  events?: string[];
}

const SIGNATURE = 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds';

const SCRIPTS: Record<AnswerScenario, Script> = {
  text: {
    id: 'msg_4QpJur2dWWDjF6C758FbBw5vm12BaVipnK',
    model: 'claude-3-opus-latest',
    text: 'Hello there!',
    tools: [],
    stopReason: 'end_turn',
    usage: { input: 11, output: 6, cacheRead: 0, cacheCreation: 0 },
    events: fixtureEvents('anthropic', 'stream-text.sse'),
  },
  tool_call: {
    id: 'msg_019Q1hrJbZG26Fb9BQhrkHEr',
    model: 'claude-sonnet-4-20250514',
    text: "I'll check the current weather in Paris for you.",
    tools: [{ id: 'toolu_01NRLabsLyVHZPKxbKvkfSMn', name: 'get_weather', input: { location: 'Paris' } }],
    stopReason: 'tool_use',
    usage: { input: 377, output: 65, cacheRead: 0, cacheCreation: 0 },
    events: fixtureEvents('anthropic', 'stream-tool-use.sse'),
  },
  reasoning: {
    id: 'msg_01Th1nk1ngAr1thmet1c000001',
    model: 'claude-sonnet-4-20250514',
    thinking: { text: 'The user asks for 17 × 23. 17 × 20 = 340 and 17 × 3 = 51, so 391.', signature: SIGNATURE },
    text: '17 × 23 = 391.',
    tools: [],
    stopReason: 'end_turn',
    usage: { input: 40, output: 120, cacheRead: 0, cacheCreation: 0, thinking: 90 },
  },
  cached_usage: {
    id: 'msg_01CachedPromptAnswer0000001',
    model: 'claude-sonnet-4-20250514',
    text: 'Cached answer from Claude.',
    tools: [],
    stopReason: 'end_turn',
    usage: { input: 50, output: 10, cacheRead: 2000, cacheCreation: 100 },
  },
  long_text: {
    id: 'msg_01LongStreamingAnswer000001',
    model: 'claude-sonnet-4-20250514',
    text: LONG_TEXT,
    tools: [],
    stopReason: 'end_turn',
    usage: { input: 12, output: 200, cacheRead: 0, cacheCreation: 0 },
  },
};

/** What each scenario answers, in canonical (OpenAI) terms: prompt = input + cache read + cache creation. */
export function anthropicAnswers(): Record<AnswerScenario, CanonicalAnswer> {
  const out = {} as Record<AnswerScenario, CanonicalAnswer>;
  for (const [name, s] of Object.entries(SCRIPTS) as Array<[AnswerScenario, Script]>) {
    out[name] = {
      content: s.text ?? null,
      reasoning: s.thinking?.text ?? null,
      toolCalls: s.tools.map((t) => ({ id: t.id, name: t.name, arguments: JSON.stringify(t.input) })),
      finish: s.stopReason === 'tool_use' ? 'tool_calls' : 'stop',
      usage: {
        prompt: s.usage.input + s.usage.cacheRead + s.usage.cacheCreation,
        completion: s.usage.output,
        cached: s.usage.cacheRead,
        reasoning: s.usage.thinking ?? 0,
      },
    };
  }
  return out;
}

/** The text a `stream_error` scenario sends before its `event: error`. */
export const ANTHROPIC_STREAM_ERROR_PARTIAL = 'Once upon';

function usageBody(u: AnthropicUsageCounts): Record<string, unknown> {
  return {
    input_tokens: u.input,
    output_tokens: u.output,
    cache_creation_input_tokens: u.cacheCreation,
    cache_read_input_tokens: u.cacheRead,
    cache_creation: { ephemeral_5m_input_tokens: u.cacheCreation, ephemeral_1h_input_tokens: 0 },
    ...(u.thinking !== undefined ? { output_tokens_details: { thinking_tokens: u.thinking } } : {}),
    server_tool_use: null,
    service_tier: 'standard',
  };
}

function messageBody(s: Script): Record<string, unknown> {
  const content: unknown[] = [];
  if (s.thinking) content.push({ type: 'thinking', thinking: s.thinking.text, signature: s.thinking.signature });
  // No `citations: null`: a text block without citations omits the field (the Vercel AI SDK's response schema
  // rejects null there, and it works against the real API).
  if (s.text !== undefined) content.push({ type: 'text', text: s.text });
  for (const tool of s.tools)
    content.push({ type: 'tool_use', id: tool.id, name: tool.name, input: tool.input, caller: { type: 'direct' } });
  return {
    id: s.id,
    type: 'message',
    role: 'assistant',
    model: s.model,
    content,
    stop_reason: s.stopReason,
    stop_sequence: null,
    stop_details: null,
    container: null,
    usage: usageBody(s.usage),
  };
}

const event = (type: string, payload: Record<string, unknown>): string =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;

function streamEvents(s: Script): string[] {
  const events: string[] = [];
  events.push(
    event('message_start', {
      message: {
        id: s.id,
        type: 'message',
        role: 'assistant',
        model: s.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: s.usage.input,
          cache_creation_input_tokens: s.usage.cacheCreation,
          cache_read_input_tokens: s.usage.cacheRead,
          output_tokens: 1,
          service_tier: 'standard',
        },
      },
    }),
  );
  let index = 0;
  if (s.thinking) {
    events.push(
      event('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }),
    );
    events.push('event: ping\ndata: {"type": "ping"}\n\n');
    for (const piece of pieces(s.thinking.text))
      events.push(event('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: piece } }));
    events.push(
      event('content_block_delta', { index, delta: { type: 'signature_delta', signature: s.thinking.signature } }),
    );
    events.push(event('content_block_stop', { index }));
    index++;
  }
  if (s.text !== undefined) {
    events.push(event('content_block_start', { index, content_block: { type: 'text', text: '' } }));
    for (const piece of pieces(s.text))
      events.push(event('content_block_delta', { index, delta: { type: 'text_delta', text: piece } }));
    events.push(event('content_block_stop', { index }));
    index++;
  }
  for (const tool of s.tools) {
    events.push(
      event('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: tool.id, name: tool.name, caller: { type: 'direct' }, input: {} },
      }),
    );
    events.push(event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } }));
    for (const part of fragments(JSON.stringify(tool.input), 3))
      events.push(event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: part } }));
    events.push(event('content_block_stop', { index }));
    index++;
  }
  events.push(
    event('message_delta', {
      delta: { stop_reason: s.stopReason, stop_sequence: null },
      usage: {
        output_tokens: s.usage.output,
        ...(s.usage.thinking !== undefined ? { output_tokens_details: { thinking_tokens: s.usage.thinking } } : {}),
      },
    }),
  );
  events.push(event('message_stop', {}));
  return events;
}

const errorBody = (type: string, message: string, requestId = 'req_011CFakeAnthropic000001') => ({
  type: 'error',
  error: { type, message },
  request_id: requestId,
});

/** The request checks Anthropic documents (PROTOCOLS.md §3.2); undefined when the request is acceptable. */
function invalidRequest(body: unknown): string | undefined {
  if (!isRecord(body)) return 'There was an issue with the format of your request: invalid JSON';
  if (typeof body.model !== 'string' || body.model === '') return 'model: Field required';
  if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens)) return 'max_tokens: Field required';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages: at least one message is required';
  const messages = body.messages as unknown[];
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (!isRecord(message) || (message.role !== 'user' && message.role !== 'assistant')) {
      return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    }
    const blocks =
      typeof message.content === 'string'
        ? [{ type: 'text', text: message.content }]
        : Array.isArray(message.content)
          ? message.content
          : undefined;
    if (!blocks) return `messages.${i}.content: Field required`;
    if (blocks.some((b) => isRecord(b) && b.type === 'text' && b.text === ''))
      return 'messages: text content blocks must be non-empty';
    const toolUseIds = blocks
      .filter((b) => isRecord(b) && b.type === 'tool_use')
      .map((b) => (b as Record<string, unknown>).id);
    if (message.role === 'assistant' && toolUseIds.length > 0) {
      const next = messages[i + 1];
      const nextBlocks = isRecord(next) && Array.isArray(next.content) ? next.content : [];
      const leading: unknown[] = [];
      for (const b of nextBlocks) {
        if (!isRecord(b) || b.type !== 'tool_result') break;
        leading.push(b.tool_use_id);
      }
      const missing = toolUseIds.filter((id) => !leading.includes(id));
      if (i + 1 < messages.length && missing.length > 0) {
        return `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
      }
    }
  }
  return undefined;
}

/** Start a fake Anthropic upstream; `baseUrl` is the origin (the adapter appends /v1/messages). */
export async function start(options: { key?: string } = {}): Promise<FakeUpstream> {
  const key = options.key ?? 'sk-ant-api03-fakeKEY-7Tq2Wm9Lx4Vb8Zc3Nd6Rf1Hj5Kp0-AAAA';
  return startFakeServer({
    key,
    baseUrl: (origin) => origin,
    handler: async (exchange) => {
      const { req, scenario } = exchange;
      const requestId = { 'request-id': 'req_011CFakeAnthropic000001' };
      if (answerAnthropicModels(exchange, key)) return;
      if (req.method !== 'POST' || req.path !== '/v1/messages') {
        exchange.json(404, errorBody('not_found_error', 'Not found'), requestId);
        return;
      }
      const presented = header(req.headers, 'x-api-key');
      if (!presented) {
        exchange.json(401, errorBody('authentication_error', 'x-api-key header is required'), requestId);
        return;
      }
      if (presented !== key || scenario.name === 'unauthorized') {
        exchange.json(401, fixtureJson('anthropic', 'error-authentication.json'), requestId);
        return;
      }
      if (!header(req.headers, 'anthropic-version')) {
        exchange.json(400, errorBody('invalid_request_error', 'anthropic-version: header is required'), requestId);
        return;
      }
      const invalid = invalidRequest(req.body);
      if (invalid) {
        exchange.json(400, errorBody('invalid_request_error', invalid), requestId);
        return;
      }
      switch (scenario.name) {
        case 'rate_limit': {
          const wait = String(scenario.retryAfterSeconds ?? 7);
          exchange.json(429, fixtureJson('anthropic', 'error-rate-limit.json'), {
            ...requestId,
            'retry-after': wait,
            'anthropic-ratelimit-requests-limit': '50',
            'anthropic-ratelimit-requests-remaining': '0',
            'anthropic-ratelimit-requests-reset': '2026-01-15T12:00:07Z',
          });
          return;
        }
        case 'server_error':
          exchange.json(500, errorBody('api_error', 'Internal server error'), requestId);
          return;
        case 'bad_request':
          exchange.json(400, fixtureJson('anthropic', 'error-invalid-request.json'), requestId);
          return;
        case 'stream_error':
          await exchange.sse(fixtureEvents('anthropic', 'stream-error-overloaded.sse'));
          return;
        default:
          break;
      }
      if ((req.body as Record<string, unknown>).stream === true && scenario.replay) {
        await exchange.sse(scenario.replay);
        return;
      }
      if ((req.body as Record<string, unknown>).stream !== true && scenario.body !== undefined) {
        exchange.json(200, scenario.body, requestId);
        return;
      }
      const scriptName: AnswerScenario =
        scenario.name === 'reset_mid_stream' ? 'long_text' : (scenario.name as AnswerScenario);
      const script = SCRIPTS[scriptName] ?? SCRIPTS.text;
      if ((req.body as Record<string, unknown>).stream !== true) {
        exchange.json(200, messageBody(script), requestId);
        return;
      }
      await exchange.sse(
        script.events ?? streamEvents(script),
        scenario.name === 'reset_mid_stream' ? { resetAfter: 6 } : {},
      );
    },
  });
}
