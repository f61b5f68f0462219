/**
 * The mock's streamed answer: the same content as {@link mockChatCompletion}, cut into chunks the way
 * OpenAI streams — a role chunk, one chunk per word of reasoning and text, each tool call as a first
 * fragment (id, name, empty arguments) then its arguments in two pieces, a finish chunk per choice,
 * and a final usage chunk with `choices: []` (always; the gateway drops it unless the client asked
 * for `stream_options.include_usage`).
 */
import type { ChatCompletionChunk, ChatRequest } from '../types.js';
import { planMockAnswer } from './answer.js';

type ChunkChoice = ChatCompletionChunk['choices'][number];

/** Words with their leading whitespace, so joining the pieces gives the text back exactly. */
function pieces(text: string): string[] {
  return text.match(/\s*\S+\s*$|\s*\S+/g) ?? [];
}

/**
 * @example mockChatChunks(request, { id: 'chatcmpl-1', created: 1 }).map((c) => c.choices[0]?.delta.content ?? '').join('')
 */
export function mockChatChunks(request: ChatRequest, ids: { id: string; created: number }): ChatCompletionChunk[] {
  const answer = planMockAnswer(request, ids.id);
  const chunk = (choices: ChunkChoice[], extra: Partial<ChatCompletionChunk> = {}): ChatCompletionChunk => ({
    id: ids.id,
    object: 'chat.completion.chunk',
    created: ids.created,
    model: request.model,
    choices,
    ...extra,
  });
  const out: ChatCompletionChunk[] = [];
  for (let index = 0; index < answer.choiceCount; index++) {
    const emit = (delta: ChunkChoice['delta']): ChatCompletionChunk => chunk([{ index, delta, finish_reason: null }]);
    out.push(emit({ role: 'assistant', content: answer.content === null ? null : '' }));
    for (const piece of pieces(answer.reasoning)) out.push(emit({ reasoning_content: piece }));
    for (const piece of pieces(answer.content ?? '')) out.push(emit({ content: piece }));
    answer.toolCalls.forEach((call, callIndex) => {
      out.push(
        emit({
          tool_calls: [
            { index: callIndex, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
          ],
        }),
      );
      const args = call.function.arguments;
      const middle = Math.ceil(args.length / 2);
      for (const part of [args.slice(0, middle), args.slice(middle)]) {
        if (part !== '') out.push(emit({ tool_calls: [{ index: callIndex, function: { arguments: part } }] }));
      }
    });
    out.push(chunk([{ index, delta: {}, finish_reason: answer.finishReason }]));
  }
  out.push(chunk([], { usage: answer.usage }));
  return out;
}
