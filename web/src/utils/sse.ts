/**
 * A small Server-Sent Events reader for fetch() bodies (EventSource cannot POST or send a bearer token).
 * Follows the WHATWG event-stream rules: lines end in CRLF, LF or CR (even when a chunk ends between the CR
 * and the LF), `field: value` with one optional space after the colon, `data` lines joined with "\n", a blank
 * line dispatches the event, lines starting with ":" are comments, a leading BOM is ignored.
 */

export interface SseEvent {
  /** The `event:` field; "message" when absent. */
  event: string;
  data: string;
  id?: string;
}

/** Incremental parser: push decoded text as it arrives, get the complete events back. */
export class SseParser {
  #buffer = '';
  #data: string[] = [];
  #event = '';
  #id: string | undefined;
  #started = false;

  push(text: string): SseEvent[] {
    if (!this.#started && text !== '') {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.#buffer += text;
    const events: SseEvent[] = [];
    let start = 0;
    const buffer = this.#buffer;
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      // A CR as the very last character may be the first half of a CRLF split across chunks: wait for more.
      if (c === 13 && i === buffer.length - 1) break;
      this.#line(buffer.slice(start, i), events);
      if (c === 13 && buffer.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
    }
    this.#buffer = buffer.slice(start);
    return events;
  }

  /** The stream ended: flush a last line and event that had no terminator. */
  end(): SseEvent[] {
    const events: SseEvent[] = [];
    const rest = this.#buffer.replace(/\r$/, '');
    this.#buffer = '';
    if (rest !== '') this.#line(rest, events);
    this.#line('', events);
    return events;
  }

  #line(line: string, events: SseEvent[]): void {
    if (line === '') {
      if (this.#data.length > 0) {
        const event: SseEvent = { event: this.#event || 'message', data: this.#data.join('\n') };
        if (this.#id !== undefined) event.id = this.#id;
        events.push(event);
      }
      this.#data = [];
      this.#event = '';
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
    // `retry` and unknown fields are ignored.
  }
}

/** The events of a response body, as they arrive. Throws the fetch's AbortError when aborted. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    finished = true;
    yield* parser.push(decoder.decode());
    yield* parser.end();
  } finally {
    // Stopped early (abort, [DONE] before the end, an error event): let go of the connection.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

/** An error the server sent inside the stream (`data: {"error": {...}}` or an `event: error`). */
export class StreamErrorEvent extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** The result of {@link readJsonStream}: whether the stream ended with `data: [DONE]`. */
export interface JsonStreamEnd {
  done: boolean;
}

/**
 * The JSON payloads of an OpenAI-style stream: stops at `data: [DONE]`, throws {@link StreamErrorEvent} on an
 * error event, skips payloads that are not JSON. The return value tells whether [DONE] was seen (a stream that
 * just stops was cut short).
 */
export async function* readJsonStream(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown, JsonStreamEnd> {
  for await (const event of readSse(body)) {
    const data = event.data.trim();
    if (data === '[DONE]') return { done: true };
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      if (event.event === 'error') throw new StreamErrorEvent(data || 'Stream error', 'stream_error', 0);
      continue;
    }
    const error = (json as { error?: unknown } | null)?.error;
    if (event.event === 'error' || (error !== undefined && error !== null)) {
      const info = (typeof error === 'object' && error !== null ? error : {}) as {
        message?: unknown;
        code?: unknown;
        type?: unknown;
        status?: unknown;
      };
      const message =
        typeof info.message === 'string' ? info.message : typeof error === 'string' ? error : 'Stream error';
      const code = typeof info.code === 'string' ? info.code : typeof info.type === 'string' ? info.type : 'error';
      throw new StreamErrorEvent(message, code, typeof info.status === 'number' ? info.status : 0);
    }
    yield json;
  }
  return { done: false };
}
