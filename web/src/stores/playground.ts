import { defineStore } from 'pinia';
import { computed, reactive, ref, toRaw, watch } from 'vue';
import { authFetch } from '@/api/client';
import type { paths } from '@/api/schema';
import { readJsonStream, StreamErrorEvent } from '@/utils/sse';
import { useAuth } from './auth';
import {
  IMAGE_SIZES,
  imagesBody,
  imagesOf,
  PG_MODES,
  type PgMode,
  type ResponsesUsage,
  readResponseObject,
  readResponsesEvent,
  responsesBody,
} from './playground-modes';

/**
 * The playground's conversations and settings. They live in this browser only (localStorage, one entry per
 * signed-in user), never on the server. Sending runs here rather than in the page, so an answer keeps
 * streaming into its conversation while the user looks at another page of the console.
 */

/** A chat model the user may use, from GET /api/playground/models. */
export type PlaygroundModel =
  paths['/api/playground/models']['get']['responses'][200]['content']['application/json']['data'][number];

export interface PgUsage {
  prompt: number;
  completion: number;
  reasoning?: number;
  total: number;
}

export interface PgError {
  /** The server's code (insufficient_quota, model_not_allowed, …) or network_error / stream_cut. */
  code: string;
  message: string;
  status: number;
  /** Seconds to wait, from Retry-After. */
  retryAfter?: number;
}

export interface PgMessage {
  id: string;
  role: 'user' | 'assistant';
  content: string;
  createdAt: number;
  /** Assistant only: */
  model?: string;
  reasoning?: string;
  /** How long the model reasoned (first reasoning token → first answer token, or end). */
  reasoningMs?: number;
  usage?: PgUsage;
  /** Time to first token (streamed answers). */
  ttftMs?: number;
  totalMs?: number;
  finishReason?: string;
  /** The user pressed Stop: what arrived is kept. */
  stopped?: boolean;
  error?: PgError;
  /** Still being written (false once finished, stopped or failed). */
  pending?: boolean;
  /** Images mode: the generated images (data URLs or the upstream's URLs). */
  images?: string[];
}

export interface PgConversation {
  id: string;
  title: string;
  createdAt: number;
  updatedAt: number;
  messages: PgMessage[];
}

export interface PgSettings {
  model: string;
  systemPrompt: string;
  temperature: number;
  maxTokens: number | null;
  stream: boolean;
  /** Chat Completions, the Responses API, or image generation. */
  mode: PgMode;
  /** Images mode: the size asked for. */
  imageSize: string;
}

/** Which phase a streaming answer is in, for the page (reasoning panel open/closed, cursor). */
export type PgPhase = 'waiting' | 'reasoning' | 'answering';

const VERSION = 1;
const MAX_CONVERSATIONS = 100;
const TITLE_LENGTH = 48;
const DEFAULT_TEMPERATURE = 1;
const defaultSettings = (): PgSettings => ({
  model: '',
  systemPrompt: '',
  temperature: DEFAULT_TEMPERATURE,
  maxTokens: null,
  stream: true,
  mode: 'chat',
  imageSize: '1024x1024',
});

const newId = (): string =>
  globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;

function titleOf(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > TITLE_LENGTH ? `${flat.slice(0, TITLE_LENGTH)}…` : flat;
}

/** Stored settings, checked field by field (a bad value falls back to the default). */
function sanitize(saved: Partial<PgSettings> | null): PgSettings {
  const out = defaultSettings();
  if (!saved || typeof saved !== 'object') return out;
  if (typeof saved.model === 'string') out.model = saved.model;
  if (typeof saved.systemPrompt === 'string') out.systemPrompt = saved.systemPrompt;
  if (typeof saved.temperature === 'number' && saved.temperature >= 0 && saved.temperature <= 2)
    out.temperature = saved.temperature;
  if (typeof saved.maxTokens === 'number' && saved.maxTokens > 0) out.maxTokens = Math.floor(saved.maxTokens);
  if (typeof saved.stream === 'boolean') out.stream = saved.stream;
  if (PG_MODES.includes(saved.mode as PgMode)) out.mode = saved.mode as PgMode;
  if ((IMAGE_SIZES as readonly string[]).includes(saved.imageSize as string)) out.imageSize = saved.imageSize as string;
  return out;
}

function readJson<T>(key: string): T | null {
  try {
    const raw = localStorage.getItem(key);
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

/** Calls `apply` at most once per animation frame (and right away on flush()). */
function frameThrottle(apply: () => void): { schedule: () => void; flush: () => void } {
  let frame = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const run = () => {
    frame = 0;
    clearTimeout(timer);
    timer = undefined;
    apply();
  };
  return {
    schedule() {
      if (frame || timer) return;
      // Background tabs get no animation frames: fall back to a slow timer so the text still moves.
      if (document.hidden) timer = setTimeout(run, 250);
      else frame = requestAnimationFrame(run);
    },
    flush() {
      if (frame) cancelAnimationFrame(frame);
      run();
    },
  };
}

// The OpenAI shapes we read (the playground route passes OpenAI's own answers through; they are not part
// of the console's OpenAPI schema).
interface ChunkUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}
interface ChatChunk {
  choices?: { delta?: { content?: string | null; reasoning_content?: string | null }; finish_reason?: string | null }[];
  usage?: ChunkUsage | null;
}
interface ChatCompletion {
  choices?: {
    message?: { content?: string | null; reasoning_content?: string | null };
    finish_reason?: string | null;
  }[];
  usage?: ChunkUsage | null;
}

/** Responses API usage in the playground's terms. */
function fromResponsesUsage(usage: ResponsesUsage | undefined): PgUsage | undefined {
  if (!usage || typeof usage.input_tokens !== 'number') return undefined;
  return toUsage({
    prompt_tokens: usage.input_tokens,
    completion_tokens: usage.output_tokens ?? 0,
    total_tokens: usage.total_tokens,
    completion_tokens_details: usage.output_tokens_details ?? null,
  });
}

function toUsage(usage: ChunkUsage | null | undefined): PgUsage | undefined {
  if (!usage || typeof usage.prompt_tokens !== 'number') return undefined;
  const completion = usage.completion_tokens ?? 0;
  const out: PgUsage = {
    prompt: usage.prompt_tokens,
    completion,
    total: usage.total_tokens ?? usage.prompt_tokens + completion,
  };
  const reasoning = usage.completion_tokens_details?.reasoning_tokens;
  if (typeof reasoning === 'number' && reasoning > 0) out.reasoning = reasoning;
  return out;
}

/** The error of a failed (non-2xx) response, in the server's words. */
async function responseError(response: Response): Promise<PgError> {
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    // not JSON (a proxy's HTML page…)
  }
  const error = (body as { error?: { code?: unknown; type?: unknown; message?: unknown } } | null)?.error;
  const retry = Number(response.headers.get('retry-after'));
  return {
    code: typeof error?.code === 'string' ? error.code : typeof error?.type === 'string' ? error.type : 'http_error',
    message:
      typeof error?.message === 'string' ? error.message : `HTTP ${response.status} ${response.statusText}`.trim(),
    status: response.status,
    ...(Number.isFinite(retry) && retry > 0 ? { retryAfter: retry } : {}),
  };
}

const isAbort = (error: unknown): boolean => error instanceof DOMException && error.name === 'AbortError';

export const usePlayground = defineStore('playground', () => {
  const auth = useAuth();
  const owner = ref<string | null>(null);
  const conversations = ref<PgConversation[]>([]);
  const currentId = ref<string | null>(null);
  const settings = reactive<PgSettings>(defaultSettings());
  /** The conversation an answer is streaming into, if any. */
  const streamingId = ref<string | null>(null);
  const phase = ref<PgPhase>('waiting');
  /** Whether the selected model reasons (set by the page from the model list): Responses asks for its summary. */
  const reasoningModel = ref(false);
  /** Set when the browser refused to store everything (quota). */
  const storageFull = ref(false);
  let controller: AbortController | null = null;
  let saveTimer: ReturnType<typeof setTimeout> | undefined;

  const keys = (user: string) => ({
    conversations: `aihub.playground.v${VERSION}.${user}.conversations`,
    settings: `aihub.playground.v${VERSION}.${user}.settings`,
  });

  const current = computed(() => conversations.value.find((c) => c.id === currentId.value) ?? null);
  const streaming = computed(() => streamingId.value !== null);
  /** Newest first. */
  const sorted = computed(() => [...conversations.value].sort((a, b) => b.updatedAt - a.updatedAt));

  /** Load this user's conversations (once per user; again after switching accounts). */
  function load(force = false): void {
    const user = auth.user?.id ?? 'anonymous';
    if (owner.value === user && !force) return;
    if (owner.value !== user) stop();
    owner.value = user;
    const k = keys(user);
    const saved = readJson<{ conversations?: PgConversation[]; currentId?: string | null }>(k.conversations);
    const list = (Array.isArray(saved?.conversations) ? saved.conversations : []).filter(
      (c) => c && typeof c.id === 'string' && Array.isArray(c.messages),
    );
    // An answer that was streaming when the page closed is finished as it stands.
    for (const c of list) for (const m of c.messages) if (m.pending) m.pending = false;
    conversations.value = list;
    currentId.value = list.some((c) => c.id === saved?.currentId) ? (saved?.currentId ?? null) : (list[0]?.id ?? null);
    Object.assign(settings, sanitize(readJson<Partial<PgSettings>>(k.settings)));
  }

  function saveNow(): void {
    clearTimeout(saveTimer);
    saveTimer = undefined;
    if (!owner.value) return;
    const key = keys(owner.value).conversations;
    let list = conversations.value;
    // Drop the oldest conversations until it fits (never the open one).
    for (;;) {
      try {
        localStorage.setItem(key, JSON.stringify({ conversations: toRaw(list), currentId: currentId.value }));
        return;
      } catch (error) {
        // Storage off or refused (private mode…): keep everything in memory for this visit.
        if (!(error instanceof DOMException && /quota/i.test(error.name))) return;
        storageFull.value = true;
        const victims = [...list].filter((c) => c.id !== currentId.value).sort((a, b) => a.updatedAt - b.updatedAt);
        const victim = victims[0];
        if (!victim) return;
        list = list.filter((c) => c !== victim);
        conversations.value = list;
      }
    }
  }

  /** Save soon (many changes in a row → one write). */
  function save(): void {
    if (saveTimer) return;
    saveTimer = setTimeout(saveNow, 800);
  }

  watch(
    settings,
    () => {
      if (!owner.value) return;
      try {
        localStorage.setItem(keys(owner.value).settings, JSON.stringify(settings));
      } catch {
        storageFull.value = true;
      }
    },
    { deep: true },
  );

  // Another tab changed the conversations: pick them up (unless we are writing an answer ourselves).
  window.addEventListener('storage', (event) => {
    if (!owner.value || streaming.value) return;
    if (event.key === keys(owner.value).conversations) load(true);
  });
  window.addEventListener('pagehide', () => {
    if (saveTimer) saveNow();
  });

  function create(): PgConversation {
    const now = Date.now();
    conversations.value.push({ id: newId(), title: '', createdAt: now, updatedAt: now, messages: [] });
    const list = conversations.value;
    if (list.length > MAX_CONVERSATIONS) {
      const oldest = [...list].sort((a, b) => a.updatedAt - b.updatedAt)[0];
      if (oldest && oldest.id !== streamingId.value) conversations.value = list.filter((c) => c !== oldest);
    }
    const created = conversations.value[conversations.value.length - 1] as PgConversation;
    currentId.value = created.id;
    save();
    return created;
  }

  /** Open a new, empty conversation (re-using the open one when it is still empty). */
  function startNew(): void {
    if (current.value && current.value.messages.length === 0) return;
    create();
  }

  function select(id: string): void {
    if (conversations.value.some((c) => c.id === id)) {
      currentId.value = id;
      save();
    }
  }

  function remove(id: string): void {
    if (streamingId.value === id) stop();
    conversations.value = conversations.value.filter((c) => c.id !== id);
    if (currentId.value === id) currentId.value = sorted.value[0]?.id ?? null;
    saveNow();
  }

  /** Empty the open conversation. */
  function clear(): void {
    const conversation = current.value;
    if (!conversation) return;
    if (streamingId.value === conversation.id) stop();
    conversation.messages = [];
    conversation.title = '';
    conversation.updatedAt = Date.now();
    saveNow();
  }

  function stop(): void {
    controller?.abort();
  }

  /** Send a user message in the open conversation and stream the answer. */
  async function send(text: string): Promise<void> {
    const content = text.trim();
    if (!content || streaming.value || !settings.model) return;
    const conversation = current.value ?? create();
    conversation.messages.push({ id: newId(), role: 'user', content, createdAt: Date.now() });
    if (!conversation.title) conversation.title = titleOf(content);
    await answer(conversation);
  }

  /** Answer the last user message of the open conversation again (dropping the answer after it). */
  async function regenerate(): Promise<void> {
    const conversation = current.value;
    if (!conversation || streaming.value || !settings.model) return;
    const messages = conversation.messages;
    while (messages.length > 0 && messages[messages.length - 1]?.role === 'assistant') messages.pop();
    if (messages.length === 0) return;
    await answer(conversation);
  }

  /**
   * The request body: system prompt, then the conversation. Turns that got no answer (failed, or stopped
   * before any text) are left out, question included, so the roles keep alternating.
   */
  function requestBody(conversation: PgConversation): Record<string, unknown> {
    const messages: { role: string; content: string }[] = [];
    if (settings.systemPrompt.trim()) messages.push({ role: 'system', content: settings.systemPrompt });
    const list = conversation.messages;
    list.forEach((m, i) => {
      if (m.pending || !m.content) return;
      const next = list[i + 1];
      if (m.role === 'user' && next?.role === 'assistant' && !next.content) return;
      messages.push({ role: m.role, content: m.content });
    });
    const body: Record<string, unknown> = { model: settings.model, messages, stream: settings.stream };
    if (settings.stream) body.stream_options = { include_usage: true };
    if (settings.temperature !== DEFAULT_TEMPERATURE) body.temperature = settings.temperature;
    if (typeof settings.maxTokens === 'number' && settings.maxTokens > 0)
      body.max_completion_tokens = settings.maxTokens;
    return body;
  }

  /** The endpoint and body of the mode in use (images: the last prompt; responses: the conversation). */
  function modeRequest(
    conversation: PgConversation,
    reasoningModel: boolean,
  ): { url: string; body: Record<string, unknown> } {
    if (settings.mode === 'images') {
      const prompt = [...conversation.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
      return {
        url: '/api/playground/images/generations',
        body: imagesBody(settings.model, prompt, settings.imageSize),
      };
    }
    const chat = requestBody(conversation);
    if (settings.mode === 'chat') return { url: '/api/playground/chat/completions', body: chat };
    const messages = chat.messages as { role: string; content: string }[];
    return { url: '/api/playground/responses', body: responsesBody(settings, messages, reasoningModel) };
  }

  async function answer(conversation: PgConversation): Promise<void> {
    const mode = settings.mode;
    const { url, body } = modeRequest(conversation, reasoningModel.value);
    const started = performance.now();
    conversation.messages.push({
      id: newId(),
      role: 'assistant',
      content: '',
      createdAt: Date.now(),
      model: settings.model,
      pending: true,
    });
    // The reactive copy: changes to it show on the page.
    const message = conversation.messages[conversation.messages.length - 1] as PgMessage;
    conversation.updatedAt = Date.now();
    streamingId.value = conversation.id;
    phase.value = 'waiting';
    controller = new AbortController();
    const { signal } = controller;

    let content = '';
    let reasoning = '';
    let reasoningStart = 0;
    const view = frameThrottle(() => {
      message.content = content;
      if (reasoning) message.reasoning = reasoning;
    });
    const markFirstToken = () => {
      if (message.ttftMs === undefined) message.ttftMs = Math.round(performance.now() - started);
    };
    const endReasoning = () => {
      if (reasoningStart && message.reasoningMs === undefined)
        message.reasoningMs = Math.round(performance.now() - reasoningStart);
    };

    try {
      const response = await authFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: body.stream ? 'text/event-stream' : 'application/json' },
        body: JSON.stringify(body),
        credentials: 'same-origin',
        signal,
      });
      if (!response.ok) {
        message.error = await responseError(response);
        return;
      }
      if (mode === 'images') {
        const { images, revisedPrompt } = imagesOf(await response.json());
        markFirstToken();
        message.images = images;
        content = revisedPrompt;
        return;
      }
      if (mode === 'responses' && (!body.stream || !response.body)) {
        const answered = readResponseObject(await response.json());
        content = answered.text;
        reasoning = answered.reasoning;
        view.flush();
        message.usage = fromResponsesUsage(answered.usage);
        return;
      }
      if (mode === 'responses' && response.body) {
        const events = readJsonStream(response.body);
        let ended = false;
        for (;;) {
          const next = await events.next();
          if (next.done) break;
          const step = readResponsesEvent(next.value);
          if (step.kind === 'reasoning') {
            markFirstToken();
            if (!reasoningStart) reasoningStart = performance.now();
            reasoning += step.delta;
            if (phase.value === 'waiting') phase.value = 'reasoning';
            view.schedule();
          } else if (step.kind === 'text') {
            markFirstToken();
            endReasoning();
            content += step.delta;
            phase.value = 'answering';
            view.schedule();
          } else if (step.kind === 'end') {
            ended = true;
            message.usage = fromResponsesUsage(step.usage);
            if (step.status !== 'completed') message.finishReason = step.status;
          } else if (step.kind === 'failed') {
            ended = true;
            message.error = { code: step.code, message: step.message, status: 0 };
          }
          save();
        }
        if (!ended)
          message.error = {
            code: 'stream_cut',
            message: 'The connection closed before the answer was complete.',
            status: 0,
          };
        return;
      }
      if (!body.stream || !response.body) {
        const completion = (await response.json()) as ChatCompletion;
        const choice = completion.choices?.[0];
        content = choice?.message?.content ?? '';
        reasoning = choice?.message?.reasoning_content ?? '';
        view.flush();
        message.usage = toUsage(completion.usage);
        if (choice?.finish_reason) message.finishReason = choice.finish_reason;
        return;
      }
      const stream = readJsonStream(response.body);
      for (;;) {
        const next = await stream.next();
        if (next.done) {
          if (!next.value.done) {
            message.error = {
              code: 'stream_cut',
              message: 'The connection closed before the answer was complete.',
              status: 0,
            };
          }
          break;
        }
        const chunk = next.value as ChatChunk;
        const usage = toUsage(chunk.usage);
        if (usage) message.usage = usage;
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        const delta = choice.delta ?? {};
        if (delta.reasoning_content) {
          markFirstToken();
          if (!reasoningStart) reasoningStart = performance.now();
          reasoning += delta.reasoning_content;
          if (phase.value === 'waiting') phase.value = 'reasoning';
          view.schedule();
        }
        if (delta.content) {
          markFirstToken();
          endReasoning();
          content += delta.content;
          phase.value = 'answering';
          view.schedule();
        }
        if (choice.finish_reason) message.finishReason = choice.finish_reason;
        save();
      }
    } catch (error) {
      if (isAbort(error) || signal.aborted) message.stopped = true;
      else if (error instanceof StreamErrorEvent)
        message.error = { code: error.code, message: error.message, status: error.status };
      else
        message.error = {
          code: 'network_error',
          message: error instanceof Error ? error.message : String(error),
          status: 0,
        };
    } finally {
      view.flush();
      endReasoning();
      message.totalMs = Math.round(performance.now() - started);
      message.pending = false;
      if (controller?.signal === signal) controller = null;
      streamingId.value = null;
      phase.value = 'waiting';
      conversation.updatedAt = Date.now();
      saveNow();
    }
  }

  return {
    conversations,
    sorted,
    current,
    currentId,
    settings,
    streamingId,
    streaming,
    phase,
    storageFull,
    reasoningModel,
    load,
    startNew,
    select,
    remove,
    clear,
    send,
    regenerate,
    stop,
  };
});
