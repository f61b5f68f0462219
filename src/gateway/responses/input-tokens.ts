/**
 * `POST /v1/responses/input_tokens`: how many input tokens a Responses request would use, counted here with
 * the tokenizer (o200k, OpenAI's current encoding) over the request's canonical form, plus OpenAI's
 * documented chat framing (OPENAI_PROMPT_OVERHEAD). No upstream call, nothing billed.
 */

import { OPENAI_PROMPT_OVERHEAD } from '../../providers/openai/api.js';
import type { ChatRequest } from '../../providers/types.js';
import { countTokensOf, promptShape, templateTokens } from '../accounting.js';

function textOf(chat: ChatRequest): string[] {
  const texts: string[] = [];
  for (const message of chat.messages) {
    if (typeof message.content === 'string') texts.push(message.content);
    else if (Array.isArray(message.content))
      for (const part of message.content)
        if (part.type === 'text' && typeof part.text === 'string') texts.push(part.text);
    if (message.reasoning_content) texts.push(message.reasoning_content);
    for (const call of message.tool_calls ?? []) texts.push(call.function.name, call.function.arguments);
  }
  if (chat.tools) texts.push(JSON.stringify(chat.tools));
  if (chat.response_format?.json_schema) texts.push(JSON.stringify(chat.response_format.json_schema));
  return texts;
}

/** Input tokens of a request in canonical form. */
export async function countInputTokens(chat: ChatRequest): Promise<number> {
  let total = templateTokens(OPENAI_PROMPT_OVERHEAD, promptShape(chat));
  for (const count of await countTokensOf(textOf(chat))) total += count;
  return total;
}
