/**
 * Splits a complete SSE body into events. The gateway parses live streams incrementally; this is for
 * recorded streams (fixtures, tests, the mock) where the whole text is at hand.
 * Reference: PROTOCOLS.md §1.4, §4.4 (events end at a blank line: `\n\n`, `\r\r` or `\r\n\r\n`).
 */
import type { ChatCompletionChunk, SseEvent } from '../types.js';

/**
 * Parses SSE text into events: `data:` lines of one event are joined with `\n`, `event:` names are kept,
 * comment lines (`: keep-alive`) and events without data are dropped.
 * @example parseSseText('data: {"a":1}\n\ndata: [DONE]\n\n') // [{ data: '{"a":1}' }, { data: '[DONE]' }]
 */
export function parseSseText(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split(/\r\n\r\n|\n\n|\r\r/)) {
    let name: string | undefined;
    const data: string[] = [];
    for (const line of block.split(/\r\n|\n|\r/)) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') name = value;
    }
    if (data.length > 0)
      events.push(name === undefined ? { data: data.join('\n') } : { event: name, data: data.join('\n') });
  }
  return events;
}

/** Serialises canonical chunks as an OpenAI SSE body, ending with `data: [DONE]`. */
export function chunksToSseText(chunks: ChatCompletionChunk[]): string {
  return `${chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('')}data: [DONE]\n\n`;
}
