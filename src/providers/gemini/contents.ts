/**
 * Canonical messages → Gemini `contents` + `systemInstruction`. Reference: PROTOCOLS.md §4.2, §6.3
 * items 2–7, 14:
 * - system/developer messages → `systemInstruction` (mid-conversation ones lose their position);
 * - assistant → role `model`; tool results → `functionResponse` parts in a `user` content, the function
 *   name looked up from the assistant tool call with that id (Gemini pairs by name);
 * - consecutive same-role contents are merged (Gemini rejects non-alternating turns);
 * - images: `data:` URLs → `inlineData`, other URLs → `fileData` (Gemini documents `fileUri` for uploaded
 *   files and GCS; whether it fetches arbitrary HTTP URLs is unconfirmed);
 * - thought signatures ride on tool calls as `extra_content.google.thought_signature` and are echoed on
 *   the `functionCall` part. A turn without one gets Google's documented placeholder on its first call,
 *   because Gemini 3 rejects function-call history without signatures.
 */
import { isRecord, parseJson, parseToolArguments, readString } from '../shared/json.js';
import { contentText } from '../shared/message-text.js';
import type { ChatContentPart, ChatMessage, ChatToolCall, JsonObject } from '../types.js';
import type { GeminiContent, GeminiExtraContent, GeminiPart } from './types.js';

/** Google's placeholder for function calls whose signature was lost (ai.google.dev thought-signatures). */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

const EXTENSION_MIME: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
  mp3: 'audio/mp3',
  wav: 'audio/wav',
  mp4: 'video/mp4',
  txt: 'text/plain',
};

/** A MIME type guessed from a URL or file name's extension. */
export function mimeFromName(name: string, fallback: string): string {
  const extension = /\.([a-z0-9]+)(?:$|[?#])/i.exec(name)?.[1]?.toLowerCase();
  return (extension && EXTENSION_MIME[extension]) || fallback;
}

/** `data:image/png;base64,AAAA` → inlineData; a non-base64 data URL is base64-encoded. */
function dataUrlPart(url: string): GeminiPart | undefined {
  const match = /^data:([^;,]*)((?:;[^;,]*)*),(.*)$/s.exec(url);
  if (!match) return undefined;
  const mimeType = match[1] || 'application/octet-stream';
  const isBase64 = (match[2] ?? '').split(';').includes('base64');
  const payload = match[3] ?? '';
  const data = isBase64 ? payload : Buffer.from(decodeURIComponent(payload), 'utf8').toString('base64');
  return { inlineData: { mimeType, data } };
}

function urlPart(url: string, fallbackMime: string): GeminiPart {
  return dataUrlPart(url) ?? { fileData: { mimeType: mimeFromName(url, fallbackMime), fileUri: url } };
}

/** One canonical content part → a Gemini part; types Gemini cannot carry are skipped. */
function contentPart(part: ChatContentPart): GeminiPart | undefined {
  if (part.type === 'text' && typeof part.text === 'string') return { text: part.text };
  if (part.type === 'image_url' && isRecord(part.image_url) && typeof part.image_url.url === 'string') {
    return urlPart(part.image_url.url, 'image/jpeg');
  }
  if (part.type === 'input_audio' && isRecord(part.input_audio)) {
    const data = readString(part.input_audio, 'data');
    const format = readString(part.input_audio, 'format') ?? 'wav';
    return data === undefined ? undefined : { inlineData: { mimeType: `audio/${format}`, data } };
  }
  if (part.type === 'file' && isRecord(part.file)) {
    const fileData = readString(part.file, 'file_data');
    const filename = readString(part.file, 'filename') ?? '';
    if (fileData !== undefined) {
      return (
        dataUrlPart(fileData) ?? { inlineData: { mimeType: mimeFromName(filename, 'application/pdf'), data: fileData } }
      );
    }
    const fileId = readString(part.file, 'file_id');
    if (fileId !== undefined)
      return { fileData: { mimeType: mimeFromName(filename, 'application/pdf'), fileUri: fileId } };
  }
  return undefined;
}

/** The parts of a message's `content` (string or parts). Empty strings give no part. */
export function contentParts(content: ChatMessage['content']): GeminiPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ text: content }];
  if (!Array.isArray(content)) return [];
  return content.map(contentPart).filter((part): part is GeminiPart => part !== undefined);
}

function thoughtSignatureOf(call: ChatToolCall): string | undefined {
  const extra = (call as ChatToolCall & { extra_content?: GeminiExtraContent }).extra_content;
  const signature = isRecord(extra) && isRecord(extra.google) ? extra.google.thought_signature : undefined;
  return typeof signature === 'string' && signature !== '' ? signature : undefined;
}

function functionCallParts(calls: ChatToolCall[]): GeminiPart[] {
  const anySigned = calls.some((call) => thoughtSignatureOf(call) !== undefined);
  return calls.map((call, i) => {
    const signature = thoughtSignatureOf(call) ?? (!anySigned && i === 0 ? SKIP_THOUGHT_SIGNATURE : undefined);
    const part: GeminiPart = {
      functionCall: { name: call.function.name, args: parseToolArguments(call.function.arguments) },
    };
    if (signature !== undefined) part.thoughtSignature = signature;
    return part;
  });
}

/** Tool output → `functionResponse.response`, which must be an object: a JSON object as is, anything else as `{output}`. */
export function toolResponse(text: string): JsonObject {
  const parsed = parseJson(text);
  if (isRecord(parsed)) return parsed as JsonObject;
  return { output: text };
}

function pushMerged(contents: GeminiContent[], role: GeminiContent['role'], parts: GeminiPart[]): void {
  if (parts.length === 0) return;
  const last = contents[contents.length - 1];
  if (last && last.role === role) last.parts.push(...parts);
  else contents.push({ role, parts });
}

/**
 * @example toGeminiContents([{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Hi' }])
 * // { systemInstruction: { parts: [{ text: 'Be terse.' }] }, contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] }
 */
export function toGeminiContents(messages: ChatMessage[]): {
  contents: GeminiContent[];
  systemInstruction?: { parts: GeminiPart[] };
} {
  const names = new Map<string, string>();
  for (const message of messages) {
    for (const call of message.tool_calls ?? []) names.set(call.id, call.function.name);
  }
  const system: GeminiPart[] = [];
  const contents: GeminiContent[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'system':
      case 'developer': {
        const text = contentText(message.content);
        if (text !== '') system.push({ text });
        break;
      }
      case 'assistant':
        pushMerged(contents, 'model', [
          ...contentParts(message.content),
          ...functionCallParts(message.tool_calls ?? []),
        ]);
        break;
      case 'tool': {
        const name = names.get(message.tool_call_id ?? '') ?? message.name ?? 'unknown_function';
        pushMerged(contents, 'user', [
          { functionResponse: { name, response: toolResponse(contentText(message.content)) } },
        ]);
        break;
      }
      default:
        pushMerged(contents, 'user', contentParts(message.content));
    }
  }
  return system.length > 0 ? { contents, systemInstruction: { parts: system } } : { contents };
}
