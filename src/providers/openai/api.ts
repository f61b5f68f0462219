/**
 * OpenAI endpoint addresses and auth headers. Reference: PROTOCOLS.md §1.1, §1.6.
 */
import type { PromptOverhead, UpstreamTarget } from '../types.js';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/**
 * OpenAI's documented chat counting (openai-cookbook "How to count tokens with tiktoken", gpt-3.5-turbo-0613
 * onward and the gpt-4o family): 3 tokens a message plus 1 for a `name` (4 here, as the estimate does not
 * count names), and 3 priming the reply. Tools are rendered into the system message: the cookbook's function
 * counting adds 12 once; their JSON, which the estimate counts as text, is longer than the rendering.
 */
export const OPENAI_PROMPT_OVERHEAD: PromptOverhead = { perRequest: 3, perMessage: 4, withTools: 12 };

/** `Authorization: Bearer <key>`; no header at all when the channel has no key (local servers). */
export function bearerAuth(target: UpstreamTarget): Record<string, string> {
  return target.apiKey === '' ? {} : { Authorization: `Bearer ${target.apiKey}` };
}
