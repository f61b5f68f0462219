/**
 * Folds canonical stream chunks back into one ChatCompletion, the way the OpenAI SDK's stream helper
 * does: content and reasoning concatenated per choice, tool-call fragments accumulated by `index`.
 * Used to log or cache a streamed answer, and by tests to compare a stream with its non-stream twin.
 * Reference: PROTOCOLS.md §1.4 (tool-call deltas).
 */
import type { ChatCompletion, ChatCompletionChunk, ChatToolCall, ChatUsage, FinishReason } from '../types.js';

interface ChoiceState {
  content: string;
  sawContent: boolean;
  reasoning: string;
  refusal: string | undefined;
  toolCalls: Map<number, ChatToolCall>;
  finish: FinishReason | null;
}

function emptyChoice(): ChoiceState {
  return { content: '', sawContent: false, reasoning: '', refusal: undefined, toolCalls: new Map(), finish: null };
}

/**
 * Reassembles chunks into a completion. Ids come from the first chunk; usage from the last chunk that
 * carried one.
 * @example assembleChunks(chunks).choices[0]?.message.content
 */
export function assembleChunks(chunks: ChatCompletionChunk[]): ChatCompletion {
  const choices = new Map<number, ChoiceState>();
  let usage: ChatUsage | undefined;
  for (const chunk of chunks) {
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      const state = choices.get(choice.index) ?? emptyChoice();
      choices.set(choice.index, state);
      const { delta } = choice;
      if (typeof delta.content === 'string') {
        state.content += delta.content;
        state.sawContent = true;
      }
      if (typeof delta.reasoning_content === 'string') state.reasoning += delta.reasoning_content;
      if (typeof delta.refusal === 'string') state.refusal = (state.refusal ?? '') + delta.refusal;
      for (const fragment of delta.tool_calls ?? []) {
        const call = state.toolCalls.get(fragment.index) ?? {
          id: '',
          type: 'function',
          function: { name: '', arguments: '' },
        };
        if (fragment.id) call.id = fragment.id;
        if (fragment.function?.name) call.function.name += fragment.function.name;
        if (fragment.function?.arguments) call.function.arguments += fragment.function.arguments;
        state.toolCalls.set(fragment.index, call);
      }
      if (choice.finish_reason) state.finish = choice.finish_reason;
    }
  }
  const first = chunks[0];
  return {
    id: first?.id ?? '',
    object: 'chat.completion',
    created: first?.created ?? 0,
    model: first?.model ?? '',
    choices: [...choices.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, state]) => {
        const toolCalls = [...state.toolCalls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
        const hasText = state.sawContent && (state.content !== '' || toolCalls.length === 0);
        return {
          index,
          message: {
            role: 'assistant' as const,
            content: hasText ? state.content : null,
            ...(state.reasoning === '' ? {} : { reasoning_content: state.reasoning }),
            ...(toolCalls.length === 0 ? {} : { tool_calls: toolCalls }),
            ...(state.refusal === undefined ? {} : { refusal: state.refusal }),
          },
          finish_reason: state.finish,
        };
      }),
    ...(usage === undefined ? {} : { usage }),
  };
}
