import { describe, expect, it } from 'vitest';
import { readJsonStream, SseParser, StreamErrorEvent } from './sse';

function body(chunks: Array<string | Uint8Array>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === 'string' ? encoder.encode(c) : c);
      controller.close();
    },
  });
}

async function all<T>(gen: AsyncGenerator<T, unknown>): Promise<{ items: T[]; end: unknown }> {
  const items: T[] = [];
  for (;;) {
    const next = await gen.next();
    if (next.done) return { items, end: next.value };
    items.push(next.value);
  }
}

describe('SseParser', () => {
  const stream = 'data: {"a":1}\r\n\r\n: comment\nevent: ping\ndata: x\ndata: y\n\ndata: [DONE]\n\n';

  it('parses events however the text is split into chunks', () => {
    const whole = new SseParser().push(stream);
    expect(whole).toEqual([
      { event: 'message', data: '{"a":1}' },
      { event: 'ping', data: 'x\ny' },
      { event: 'message', data: '[DONE]' },
    ]);
    for (let cut = 1; cut < stream.length; cut++) {
      const parser = new SseParser();
      const events = [...parser.push(stream.slice(0, cut)), ...parser.push(stream.slice(cut)), ...parser.end()];
      expect(events, `split at ${cut}`).toEqual(whole);
    }
  });

  it('ignores a leading BOM and flushes an unterminated last event at the end', () => {
    const parser = new SseParser();
    expect(parser.push('\ufeffdata: first\n\ndata: last')).toEqual([{ event: 'message', data: 'first' }]);
    expect(parser.end()).toEqual([{ event: 'message', data: 'last' }]);
  });
});

describe('readJsonStream', () => {
  it('yields the JSON chunks, decodes characters split across chunks, and reports [DONE]', async () => {
    const bytes = new TextEncoder().encode('data: {"t":"天空"}\n\n');
    const { items, end } = await all(
      readJsonStream(body([bytes.slice(0, 13), bytes.slice(13), 'data: not json\n\n', 'data: [DONE]\n\n'])),
    );
    expect(items).toEqual([{ t: '天空' }]);
    expect(end).toEqual({ done: true });
  });

  it('tells a stream that was cut short from one that finished', async () => {
    const { end } = await all(readJsonStream(body(['data: {"t":1}\n\n'])));
    expect(end).toEqual({ done: false });
  });

  it('throws the error event the server sent mid-stream, with its message and code', async () => {
    const gen = readJsonStream(
      body([
        'data: {"t":1}\n\n',
        'data: {"error":{"message":"Upstream failed","type":"api_error","code":"upstream_error"}}\n\n',
      ]),
    );
    expect((await gen.next()).value).toEqual({ t: 1 });
    const error = await gen.next().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamErrorEvent);
    expect((error as StreamErrorEvent).message).toBe('Upstream failed');
    expect((error as StreamErrorEvent).code).toBe('upstream_error');
  });
});
