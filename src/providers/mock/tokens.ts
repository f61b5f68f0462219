/**
 * The mock's deterministic token arithmetic. Not a real tokenizer: each whitespace-separated word
 * counts ceil(length / 4) tokens (so "hello" is 2 and "a" is 1), which is close enough to real
 * tokenizers for English-ish text and is cheap, stable and dependency-free. A prompt adds 4 tokens of
 * overhead per message, as chat formats wrap every message in role markers.
 */
import { contentText } from '../shared/message-text.js';
import type { ChatMessage } from '../types.js';

export const MESSAGE_OVERHEAD_TOKENS = 4;

/** Tokens of one word. */
function wordTokens(word: string): number {
  return Math.ceil(word.length / 4);
}

/**
 * @example estimateMockTokens('This is a mock') // 4
 */
export function estimateMockTokens(text: string): number {
  let total = 0;
  for (const word of text.split(/\s+/)) if (word !== '') total += wordTokens(word);
  return total;
}

/** Prompt tokens of a conversation: every message's text plus its overhead; tool-call arguments count as text. */
export function estimatePromptTokens(messages: ChatMessage[]): number {
  let total = 0;
  for (const message of messages) {
    total += MESSAGE_OVERHEAD_TOKENS + estimateMockTokens(contentText(message.content));
    for (const call of message.tool_calls ?? [])
      total += estimateMockTokens(`${call.function.name} ${call.function.arguments}`);
  }
  return total;
}

/**
 * The longest prefix of `text` that fits in `budget` tokens, cut at a word boundary.
 * @example truncateToTokens('one two three', 2) // { text: 'one two', tokens: 2, truncated: true }
 */
export function truncateToTokens(text: string, budget: number): { text: string; tokens: number; truncated: boolean } {
  let tokens = 0;
  let end = 0;
  for (const match of text.matchAll(/\s*\S+/g)) {
    const cost = wordTokens(match[0].trim());
    if (tokens + cost > budget) return { text: text.slice(0, end), tokens, truncated: true };
    tokens += cost;
    end = (match.index ?? 0) + match[0].length;
  }
  return { text, tokens, truncated: false };
}

/** FNV-1a, 32-bit: a tiny deterministic hash for picking sentences, ids and embedding values. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
