/**
 * A fake Gemini API (generativelanguage v1beta, PROTOCOLS.md §4): POST
 * /v1beta/models/{m}:generateContent, :streamGenerateContent (SSE with `alt=sse`, else one JSON array)
 * and :batchEmbedContents, authenticated by `x-goog-api-key` (or `?key=`). Like the real service it
 * answers a wrong key with 400 INVALID_ARGUMENT / API_KEY_INVALID, a missing one with 403
 * PERMISSION_DENIED, and rejects contents that do not alternate user/model or whose function responses
 * do not follow the function-call turn.
 *
 * Text, tool-call and reasoning answers replay the fixtures (SSE events end with CRLF CRLF); others are
 * generated in the same shapes.
 */
import { answerGeminiModels } from './accounts.js';
import {
  type CanonicalAnswer,
  eventData,
  type FakeUpstream,
  fixtureEvents,
  fixtureJson,
  header,
  isRecord,
  LONG_TEXT,
  pieces,
  startFakeServer,
} from './http.js';

type AnswerScenario = 'text' | 'tool_call' | 'reasoning' | 'cached_usage' | 'long_text';

interface Script {
  answer: CanonicalAnswer;
  body: Record<string, unknown>;
  events: string[];
}

const sse = (payload: unknown): string => `data: ${JSON.stringify(payload)}\r\n\r\n`;

function generatedLongText(): Script {
  const responseId = 'Lng7aPq2Xw9LkT4bVnYh3sDe';
  const usageMetadata = { promptTokenCount: 12, candidatesTokenCount: 200, totalTokenCount: 212 };
  const words = pieces(LONG_TEXT);
  const events = words.map((piece, i) =>
    sse({
      candidates: [
        {
          content: { parts: [{ text: piece }], role: 'model' },
          index: 0,
          ...(i === words.length - 1 ? { finishReason: 'STOP' } : {}),
        },
      ],
      ...(i === words.length - 1 ? { usageMetadata } : {}),
      modelVersion: 'gemini-2.5-flash',
      responseId,
    }),
  );
  return {
    answer: {
      content: LONG_TEXT,
      reasoning: null,
      toolCalls: [],
      finish: 'stop',
      usage: { prompt: 12, completion: 200, cached: 0, reasoning: 0 },
    },
    body: {
      candidates: [{ content: { parts: [{ text: LONG_TEXT }], role: 'model' }, finishReason: 'STOP', index: 0 }],
      usageMetadata,
      modelVersion: 'gemini-2.5-flash',
      responseId,
    },
    events,
  };
}

function scripts(): Record<AnswerScenario, Script> {
  const reasoning: Script = {
    answer: {
      content: '17 × 23 = 391.',
      reasoning: '**Checking the arithmetic**\n\nI need 17 × 23: 17 × 20 = 340 and 17 × 3 = 51, so 391.',
      toolCalls: [],
      finish: 'stop',
      usage: { prompt: 1040, completion: 121, cached: 1024, reasoning: 112 },
    },
    body: fixtureJson('gemini', 'chat-reasoning.json'),
    events: fixtureEvents('gemini', 'stream-reasoning.sse'),
  };
  return {
    text: {
      answer: {
        content: "The capital of France is Paris. It is also the country's largest city.",
        reasoning: null,
        toolCalls: [],
        finish: 'stop',
        usage: { prompt: 9, completion: 16, cached: 0, reasoning: 0 },
      },
      body: fixtureJson('gemini', 'chat.json'),
      events: fixtureEvents('gemini', 'stream-text.sse'),
    },
    tool_call: {
      answer: {
        content: null,
        reasoning: null,
        toolCalls: [
          { id: '', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { id: '', name: 'get_weather', arguments: '{"city":"London","unit":"celsius"}' },
        ],
        finish: 'tool_calls',
        usage: { prompt: 58, completion: 94, cached: 0, reasoning: 64 },
      },
      body: fixtureJson('gemini', 'chat-tool-calls.json'),
      events: fixtureEvents('gemini', 'stream-tool-calls.sse'),
    },
    reasoning,
    cached_usage: reasoning,
    long_text: generatedLongText(),
  };
}

/** What each scenario answers, in canonical terms (completion = candidates + thoughts). */
export function geminiAnswers(): Record<AnswerScenario, CanonicalAnswer> {
  const all = scripts();
  return Object.fromEntries(Object.entries(all).map(([name, s]) => [name, s.answer])) as Record<
    AnswerScenario,
    CanonicalAnswer
  >;
}

/** The text a `stream_error` scenario sends before its error chunk. */
export const GEMINI_STREAM_ERROR_PARTIAL = 'Once upon a time';

function withoutUsageMetadata(event: string): string {
  const payload = eventData(event);
  if (!payload || !('usageMetadata' in payload)) return event;
  const { usageMetadata: _dropped, ...rest } = payload;
  return sse(rest);
}

const googleError = (code: number, status: string, message: string) => ({ error: { code, message, status } });

/** The checks Gemini makes on `contents` (PROTOCOLS.md §4.2); a message for a 400, or undefined. */
function invalidContents(body: unknown): string | undefined {
  if (!isRecord(body) || !Array.isArray(body.contents) || body.contents.length === 0)
    return '* GenerateContentRequest.contents: contents is not specified\n';
  const contents = body.contents as unknown[];
  let previousRole: string | undefined;
  let previousCalls = 0;
  for (let i = 0; i < contents.length; i++) {
    const content = contents[i];
    if (!isRecord(content) || !Array.isArray(content.parts) || content.parts.length === 0)
      return `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.\n`;
    const role = content.role ?? 'user';
    if (role !== 'user' && role !== 'model') return `Please use a valid role: user, model.`;
    if (role === previousRole) return 'Please ensure that multiturn requests alternate between user and model.';
    const parts = content.parts as unknown[];
    const responses = parts.filter((p) => isRecord(p) && isRecord(p.functionResponse)).length;
    if (responses > 0) {
      if (previousCalls === 0)
        return 'Please ensure that function response turn comes immediately after a function call turn.';
      if (responses !== previousCalls) {
        return 'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.';
      }
    }
    for (const part of parts) {
      if (!isRecord(part)) return `* GenerateContentRequest.contents[${i}].parts: invalid part`;
      const fields = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse'].filter((f) => f in part);
      if (fields.length !== 1)
        return `* GenerateContentRequest.contents[${i}].parts: exactly one data field must be set`;
      const fr = part.functionResponse;
      if (isRecord(fr) && !isRecord(fr.response))
        return `* GenerateContentRequest.contents[${i}].parts.function_response.response: must be an object`;
    }
    previousRole = role as string;
    previousCalls = parts.filter((p) => isRecord(p) && isRecord(p.functionCall)).length;
  }
  return undefined;
}

function embeddingValues(text: string): number[] {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return [
    (h % 1000) / 1000 - 0.5,
    ((h >>> 10) % 1000) / 1000 - 0.5,
    ((h >>> 20) % 1000) / 1000 - 0.5,
    ((h >>> 5) % 1000) / 1000 - 0.5,
  ];
}

/** The values the fake returns for an embedded `text` (so tests can compare). */
export const fakeGeminiEmbedding = embeddingValues;

/** Start a fake Gemini upstream; `baseUrl` is `${origin}/v1beta` as the adapter expects. */
export async function start(options: { key?: string } = {}): Promise<FakeUpstream> {
  const key = options.key ?? 'AIzaSyFakeGeminiKey-0123456789abcdefghij';
  const all = scripts();
  return startFakeServer({
    key,
    baseUrl: (origin) => `${origin}/v1beta`,
    handler: async (exchange) => {
      const { req, scenario } = exchange;
      if (answerGeminiModels(exchange, key)) return;
      const match = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents)$/.exec(
        req.path,
      );
      if (req.method !== 'POST' || !match) {
        exchange.json(
          404,
          googleError(404, 'NOT_FOUND', `The requested URL ${req.path} was not found on this server.`),
        );
        return;
      }
      const [, model, method] = match;
      const presented = header(req.headers, 'x-goog-api-key') ?? req.query.get('key') ?? undefined;
      if (!presented) {
        exchange.json(403, fixtureJson('gemini', 'error-403.json'));
        return;
      }
      if (presented !== key || scenario.name === 'unauthorized') {
        exchange.json(400, fixtureJson('gemini', 'error-400-api-key-invalid.json'));
        return;
      }
      if (method === 'batchEmbedContents') {
        const requests = isRecord(req.body) && Array.isArray(req.body.requests) ? (req.body.requests as unknown[]) : [];
        if (requests.length === 0) {
          exchange.json(
            400,
            googleError(400, 'INVALID_ARGUMENT', '* BatchEmbedContentsRequest.requests: requests is not specified\n'),
          );
          return;
        }
        const values: number[][] = [];
        for (const [i, request] of requests.entries()) {
          if (!isRecord(request) || request.model !== `models/${model}`) {
            exchange.json(
              400,
              googleError(
                400,
                'INVALID_ARGUMENT',
                `* BatchEmbedContentsRequest.requests[${i}].model: Model in the request does not match the model of the batch.`,
              ),
            );
            return;
          }
          const parts = isRecord(request.content) && Array.isArray(request.content.parts) ? request.content.parts : [];
          values.push(
            embeddingValues(parts.map((p) => (isRecord(p) && typeof p.text === 'string' ? p.text : '')).join('')),
          );
        }
        exchange.json(200, { embeddings: values.map((v) => ({ values: v })) });
        return;
      }
      const invalid = invalidContents(req.body);
      if (invalid) {
        exchange.json(400, googleError(400, 'INVALID_ARGUMENT', invalid));
        return;
      }
      switch (scenario.name) {
        case 'rate_limit':
          exchange.json(429, fixtureJson('gemini', 'error-429.json'));
          return;
        case 'server_error':
          exchange.json(500, fixtureJson('gemini', 'error-500.json'));
          return;
        case 'bad_request':
          exchange.json(400, fixtureJson('gemini', 'error-400.json'));
          return;
        case 'stream_error':
          await exchange.sse(fixtureEvents('gemini', 'stream-error.sse'));
          return;
        default:
          break;
      }
      if (method === 'streamGenerateContent' && scenario.replay) {
        await exchange.sse(scenario.replay);
        return;
      }
      const scriptName: AnswerScenario =
        scenario.name === 'reset_mid_stream' ? 'long_text' : (scenario.name as AnswerScenario);
      const script = all[scriptName] ?? all.text;
      if (method === 'generateContent') {
        const body = { ...script.body };
        if (scenario.omitUsage) delete body.usageMetadata;
        exchange.json(200, body);
        return;
      }
      const events = scenario.omitUsage ? script.events.map(withoutUsageMetadata) : script.events;
      if (req.query.get('alt') !== 'sse') {
        // Without alt=sse the stream is one JSON array of responses (PROTOCOLS.md §4.1).
        exchange.json(
          200,
          events.map((e) => eventData(e)),
        );
        return;
      }
      await exchange.sse(events, scenario.name === 'reset_mid_stream' ? { resetAfter: 6 } : {});
    },
  });
}
