/**
 * The mock's non-stream answer. See answer.ts for what it says and tokens.ts for how it counts.
 */
import type { ChatCompletion, ChatRequest } from '../types.js';
import { planMockAnswer } from './answer.js';

/**
 * A deterministic completion: the same request and ids always give the same result.
 * @example mockChatCompletion({ model: 'mock-1', messages: [{ role: 'user', content: 'Hi' }] }, { id: 'chatcmpl-1', created: 1 })
 * // choices[0].message.content: 'This is a mock response to: Hi. …'
 */
export function mockChatCompletion(request: ChatRequest, ids: { id: string; created: number }): ChatCompletion {
  const answer = planMockAnswer(request, ids.id);
  return {
    id: ids.id,
    object: 'chat.completion',
    created: ids.created,
    model: request.model,
    choices: Array.from({ length: answer.choiceCount }, (_, index) => ({
      index,
      message: {
        role: 'assistant' as const,
        content: answer.content,
        ...(answer.reasoning === '' ? {} : { reasoning_content: answer.reasoning }),
        ...(answer.toolCalls.length === 0
          ? {}
          : { tool_calls: answer.toolCalls.map((call) => ({ ...call, function: { ...call.function } })) }),
      },
      finish_reason: answer.finishReason,
    })),
    usage: answer.usage,
    system_fingerprint: 'fp_aihub_mock',
  };
}
