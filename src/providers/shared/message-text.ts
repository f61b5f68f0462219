/**
 * Plain text of a canonical message's `content`, for places that need text only (system prompts,
 * tool results, the mock's answer).
 */
import type { ChatMessage } from '../types.js';

/** A string content as is; content parts → their text parts joined; anything else → ''. */
export function contentText(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : '')).join('');
}
