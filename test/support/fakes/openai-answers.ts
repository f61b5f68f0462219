/**
 * What the fake OpenAI-format upstreams answer, per flavor and scenario: the canonical answer a test
 * expects back from the gateway, and where a recorded fixture exists, the exact body or stream to
 * replay (test/fixtures/<provider>/README.md names their sources).
 */
import { type CanonicalAnswer, fixtureEvents, fixtureJson, LONG_TEXT } from './http.js';

export type OpenAiFlavor = 'openai' | 'azure' | 'deepseek' | 'ollama';

export type AnswerScenario = 'text' | 'tool_call' | 'reasoning' | 'cached_usage' | 'long_text';

export interface Meta {
  id: string;
  created: number;
  model: string;
  fingerprint: string | null;
}

export interface Script {
  answer: CanonicalAnswer;
  meta: Meta;
  /** Non-stream body served verbatim (a fixture), else generated from `answer`. */
  body?: Record<string, unknown>;
  /** Stream events served verbatim (a fixture, usage included), else generated from `answer`. */
  events?: string[];
}

const usage = (prompt: number, completion: number, cached = 0, reasoning = 0) => ({
  prompt,
  completion,
  cached,
  reasoning,
});

const OPENAI_TEXT = fixtureJson<{ choices: Array<{ message: { content: string } }> }>('openai', 'chat.json');
const AZURE_TEXT = fixtureJson<{ choices: Array<{ message: { content: string } }> }>('azure-openai', 'chat.json');

const WEATHER_CALL = {
  id: 'call_4XzlGBLtUe9dy3GVNV4jhq7h',
  name: 'get_weather',
  arguments: '{"city":"New York City"}',
};

const OPENAI_META: Meta = {
  id: 'chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL',
  created: 1727346168,
  model: 'gpt-4o-2024-08-06',
  fingerprint: 'fp_5050236cbd',
};

function openAiScripts(): Record<AnswerScenario, Script> {
  const reasoning: Script = {
    answer: {
      content: 'The answer is 42.',
      reasoning: null,
      toolCalls: [],
      finish: 'stop',
      usage: usage(2048, 320, 1920, 256),
    },
    meta: {
      id: 'chatcmpl-C3nYd2xQ8kLr5vTq1Wm0zPa7',
      created: 1754550000,
      model: 'o4-mini-2025-04-16',
      fingerprint: null,
    },
    body: fixtureJson('openai', 'chat-reasoning-usage.json'),
  };
  return {
    text: {
      answer: {
        content: OPENAI_TEXT.choices[0]?.message.content ?? '',
        reasoning: null,
        toolCalls: [],
        finish: 'stop',
        usage: usage(14, 30),
      },
      meta: OPENAI_META,
      body: fixtureJson('openai', 'chat.json'),
      events: fixtureEvents('openai', 'stream-text.sse'),
    },
    tool_call: {
      answer: { content: null, reasoning: null, toolCalls: [WEATHER_CALL], finish: 'tool_calls', usage: usage(44, 16) },
      meta: {
        id: 'chatcmpl-ABfwERreu9s99xXsVuOWtIB2UOx62',
        created: 1727346182,
        model: 'gpt-4o-2024-08-06',
        fingerprint: 'fp_143bb8492c',
      },
      body: fixtureJson('openai', 'chat-tool-calls.json'),
      events: fixtureEvents('openai', 'stream-tool-calls.sse'),
    },
    reasoning,
    cached_usage: reasoning,
    long_text: {
      answer: { content: LONG_TEXT, reasoning: null, toolCalls: [], finish: 'stop', usage: usage(12, 200) },
      meta: OPENAI_META,
    },
  };
}

function azureScripts(): Record<AnswerScenario, Script> {
  const openai = openAiScripts();
  const meta: Meta = {
    id: 'chatcmpl-AzR7c1mPq2Xw9LkT4bVnYh3sDe8F',
    created: 1733240000,
    model: 'gpt-4o-2024-11-20',
    fingerprint: 'fp_b705f0c291',
  };
  const reasoning: Script = { answer: openai.reasoning.answer, meta };
  return {
    text: {
      answer: {
        content: AZURE_TEXT.choices[0]?.message.content ?? '',
        reasoning: null,
        toolCalls: [],
        finish: 'stop',
        usage: usage(19, 12),
      },
      meta,
      body: fixtureJson('azure-openai', 'chat.json'),
      events: fixtureEvents('azure-openai', 'stream-text.sse'),
    },
    tool_call: { answer: openai.tool_call.answer, meta },
    reasoning,
    cached_usage: reasoning,
    long_text: { answer: openai.long_text.answer, meta },
  };
}

function deepseekScripts(): Record<AnswerScenario, Script> {
  const cacheHit: Script = {
    answer: { content: 'Hello!', reasoning: null, toolCalls: [], finish: 'stop', usage: usage(1200, 3, 1152) },
    meta: { id: 'b2c1', created: 1754550123, model: 'deepseek-chat', fingerprint: null },
    body: fixtureJson('openai-compatible', 'deepseek-chat-cache-hit.json'),
  };
  const meta: Meta = {
    id: '3f0a8c1e-9d2b-4c7a-b5e1-6f4d2a9c8b71',
    created: 1754550123,
    model: 'deepseek-reasoner',
    fingerprint: 'fp_ffc7281d48_prod0820_fp8_kvcache',
  };
  return {
    text: cacheHit,
    cached_usage: cacheHit,
    reasoning: {
      answer: {
        content: '2 + 2 = 4.',
        reasoning: 'The user asks for 2+2. That is 4.',
        toolCalls: [],
        finish: 'stop',
        usage: usage(18, 24, 0, 14),
      },
      meta,
      body: fixtureJson('openai-compatible', 'chat.json'),
      events: fixtureEvents('openai-compatible', 'stream-text.sse'),
    },
    tool_call: {
      answer: {
        content: null,
        reasoning: null,
        toolCalls: [{ id: 'call_00_Xy7dQp2vKf', name: 'get_weather', arguments: '{"city":"Paris"}' }],
        finish: 'tool_calls',
        usage: usage(120, 20),
      },
      meta: { ...meta, model: 'deepseek-chat' },
    },
    long_text: {
      answer: { content: LONG_TEXT, reasoning: null, toolCalls: [], finish: 'stop', usage: usage(12, 200) },
      meta: { ...meta, model: 'deepseek-chat' },
    },
  };
}

function ollamaScripts(): Record<AnswerScenario, Script> {
  const meta: Meta = { id: 'chatcmpl-512', created: 1754550200, model: 'qwen3:8b', fingerprint: 'fp_ollama' };
  const text: Script = {
    answer: { content: 'Hello from Ollama.', reasoning: null, toolCalls: [], finish: 'stop', usage: usage(10, 5) },
    meta,
  };
  return {
    text,
    cached_usage: text,
    reasoning: {
      answer: {
        content: 'Paris.',
        reasoning: 'The capital of France is Paris.',
        toolCalls: [],
        finish: 'stop',
        usage: usage(15, 12),
      },
      meta: { ...meta, id: 'chatcmpl-77' },
      body: fixtureJson('openai-compatible', 'ollama-chat-reasoning.json'),
    },
    tool_call: {
      answer: {
        content: null,
        reasoning: 'The user wants the weather in Paris; call the tool.',
        toolCalls: [{ id: 'call_k3m9x2ab', name: 'get_weather', arguments: '{"city":"Paris"}' }],
        finish: 'tool_calls',
        usage: usage(142, 37),
      },
      meta,
      events: fixtureEvents('openai-compatible', 'ollama-stream-tool-calls.sse'),
    },
    long_text: {
      answer: { content: LONG_TEXT, reasoning: null, toolCalls: [], finish: 'stop', usage: usage(12, 200) },
      meta,
    },
  };
}

export const SCRIPTS: Record<OpenAiFlavor, () => Record<AnswerScenario, Script>> = {
  openai: openAiScripts,
  azure: azureScripts,
  deepseek: deepseekScripts,
  ollama: ollamaScripts,
};

/** What each scenario answers, per flavor, in canonical terms (what the gateway must return). */
export function openAiAnswers(flavor: OpenAiFlavor): Record<AnswerScenario, CanonicalAnswer> {
  const scripts = SCRIPTS[flavor]();
  return Object.fromEntries(Object.entries(scripts).map(([name, script]) => [name, script.answer])) as Record<
    AnswerScenario,
    CanonicalAnswer
  >;
}

/** The text a `stream_error` scenario sends before its error event, per flavor. */
export const OPENAI_STREAM_ERROR_PARTIAL: Record<OpenAiFlavor, string> = {
  openai: 'Partial',
  azure: 'Partial',
  deepseek: 'Calling',
  ollama: 'Calling',
};
