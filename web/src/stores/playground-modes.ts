/**
 * The playground's Responses and Images modes: their request bodies and how their answers are read
 * (the Responses API's stream events; the Images API's `data`). Chat mode stays in ./playground.ts.
 */

/** Chat Completions, the Responses API (reasoning summaries), or image generation. */
export type PgMode = 'chat' | 'responses' | 'images';
export const PG_MODES: readonly PgMode[] = ['chat', 'responses', 'images'];
export const IMAGE_SIZES = ['1024x1024', '1792x1024', '1024x1792', '512x512'] as const;

/** Whether a model belongs in a mode's model list (by its capabilities, else its name). */
export function modelFitsMode(model: { id: string; capabilities: string[] }, mode: PgMode): boolean {
  const image = model.capabilities.includes('images') || /dall-e|imagen|gpt-image/i.test(model.id);
  const audio = model.capabilities.includes('audio') || /whisper|tts/i.test(model.id);
  return mode === 'images' ? image : !image && !audio;
}

/** A Responses API body: the system prompt as instructions, the conversation as input, not stored. */
export function responsesBody(
  settings: { model: string; systemPrompt: string; temperature: number; maxTokens: number | null; stream: boolean },
  messages: { role: string; content: string }[],
  reasoning: boolean,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: settings.model,
    input: messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role, content: m.content })),
    stream: settings.stream,
    store: false,
  };
  if (settings.systemPrompt.trim()) body.instructions = settings.systemPrompt;
  if (settings.temperature !== 1) body.temperature = settings.temperature;
  if (settings.maxTokens) body.max_output_tokens = settings.maxTokens;
  // Ask reasoning models for their summary (the reasoning panel shows it as it streams).
  if (reasoning) body.reasoning = { summary: 'auto' };
  return body;
}

export interface ResponsesUsage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  output_tokens_details?: { reasoning_tokens?: number } | null;
}

/** What a Responses stream event means for the playground. */
export type ResponsesStep =
  | { kind: 'text'; delta: string }
  | { kind: 'reasoning'; delta: string }
  | { kind: 'end'; usage: ResponsesUsage | undefined; status: string }
  | { kind: 'failed'; code: string; message: string }
  | { kind: 'other' };

interface ResponsesEvent {
  type?: string;
  delta?: string;
  response?: { status?: string; usage?: ResponsesUsage; error?: { code?: string; message?: string } | null };
}

/** Read one event of a Responses stream (https://platform.openai.com/docs/api-reference/responses-streaming). */
export function readResponsesEvent(value: unknown): ResponsesStep {
  const event = value as ResponsesEvent;
  switch (event.type) {
    case 'response.output_text.delta':
      return { kind: 'text', delta: event.delta ?? '' };
    case 'response.reasoning_summary_text.delta':
    case 'response.reasoning_text.delta':
      return { kind: 'reasoning', delta: event.delta ?? '' };
    case 'response.completed':
    case 'response.incomplete':
      return { kind: 'end', usage: event.response?.usage, status: event.response?.status ?? 'completed' };
    case 'response.failed':
      return {
        kind: 'failed',
        code: event.response?.error?.code ?? 'response_failed',
        message: event.response?.error?.message ?? 'The response failed',
      };
    default:
      return { kind: 'other' };
  }
}

interface ResponseObject {
  status?: string;
  usage?: ResponsesUsage;
  output?: { type?: string; content?: { type?: string; text?: string }[]; summary?: { text?: string }[] }[];
}

/** A non-stream Responses answer: its text, its reasoning summary, its usage. */
export function readResponseObject(value: unknown): { text: string; reasoning: string; usage?: ResponsesUsage } {
  const response = value as ResponseObject;
  let text = '';
  let reasoning = '';
  for (const item of response.output ?? []) {
    if (item.type === 'message')
      for (const part of item.content ?? []) if (part.type === 'output_text') text += part.text ?? '';
    if (item.type === 'reasoning') for (const part of item.summary ?? []) reasoning += part.text ?? '';
  }
  return { text, reasoning, usage: response.usage };
}

/** An Images API body for one prompt (images come back inline: no hosting needed). */
export function imagesBody(model: string, prompt: string, size: string): Record<string, unknown> {
  return { model, prompt, n: 1, size, response_format: 'b64_json' };
}

/** The images of an Images API answer as `src` values (data URLs or the upstream's URLs), and a revised prompt. */
export function imagesOf(value: unknown): { images: string[]; revisedPrompt: string } {
  const data = (value as { data?: { b64_json?: string; url?: string; revised_prompt?: string }[] }).data ?? [];
  const images: string[] = [];
  let revisedPrompt = '';
  for (const item of data) {
    if (item.b64_json) images.push(`data:image/png;base64,${item.b64_json}`);
    else if (item.url) images.push(item.url);
    if (item.revised_prompt && !revisedPrompt) revisedPrompt = item.revised_prompt;
  }
  return { images, revisedPrompt };
}
