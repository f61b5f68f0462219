/**
 * Non-stream answers of an OpenAI channel reach the client as the upstream wrote them (as streams do): no
 * normalising, no re-serialising. Anything that is not a well-formed completion still goes through the
 * adapter, which rejects it; other OpenAI-compatible servers are still normalised (passthrough.suite.ts).
 * Streams: the end of the upstream's stream is forwarded with the last chunks, in one write.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addChannel, addModel, type GatewayUnderTest, logOf, startGateway } from '../../support/gateway.js';

/** An answer as a Python server writes it (", " and ": "), with fields the gateway does not know. */
const ANSWER =
  '{"id": "chatcmpl-raw1", "object": "chat.completion", "created": 1754550500, "model": "gpt-4o-2024-08-06", ' +
  '"choices": [{"index": 0, "message": {"role": "assistant", "content": "Paris.", "refusal": null, ' +
  '"annotations": []}, "logprobs": null, "finish_reason": "stop"}], "usage": {"prompt_tokens": 14, ' +
  '"completion_tokens": 2, "total_tokens": 16, "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0}}, ' +
  '"service_tier": "default", "system_fingerprint": "fp_07871e2ad8"}';

describe('OpenAI channel, non-stream: the upstream body is forwarded as it came', () => {
  let gw: GatewayUnderTest;
  let upstream: Server;
  let answer = ANSWER;
  /** For stream requests: the SSE text sent in one write, and whether the connection is then reset. */
  let streamText = '';
  let resetAfterStream = false;
  /** When set, the stream is written in these pieces, a few milliseconds apart (instead of `streamText`). */
  let streamPieces: Buffer[] | undefined;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk;
      });
      req.on('end', () => {
        if ((JSON.parse(body) as { stream?: boolean }).stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          if (streamPieces) {
            const pieces = [...streamPieces];
            const next = () => {
              const piece = pieces.shift();
              if (!piece) return res.end();
              res.write(piece);
              setTimeout(next, 3);
            };
            return next();
          }
          res.write(streamText);
          if (resetAfterStream) setTimeout(() => res.socket?.destroy(), 20);
          else res.end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(answer);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
    gw = await startGateway('sqlite');
    const channel = await addChannel(gw, { name: 'openai', type: 'openai', baseUrl, keys: ['sk-test-raw'] });
    await addModel(gw, { name: 'gpt-4o', routes: [{ channelId: channel.id, upstreamModel: 'gpt-4o' }] });
  });
  afterAll(async () => {
    await gw?.t.close();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  const ask = () =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Capital of France?' }] }),
    });

  it('sends the exact bytes, as JSON, and bills the usage in them', async () => {
    answer = ANSWER;
    const res = await ask();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await res.text()).toBe(ANSWER);
    const row = await logOf(gw.t, res.headers.get('x-request-id'));
    expect(row).toMatchObject({ status: 200, promptTokens: 14, completionTokens: 2, estimated: false });
  });

  it('an answer without usage is forwarded too, and billed with the tokenizer (estimated)', async () => {
    const withoutUsage = JSON.parse(ANSWER) as Record<string, unknown>;
    delete withoutUsage.usage;
    answer = JSON.stringify(withoutUsage);
    const res = await ask();
    expect(await res.text()).toBe(answer);
    const row = await logOf(gw.t, res.headers.get('x-request-id'));
    expect(row).toMatchObject({ status: 200, estimated: true });
    expect(row.promptTokens).toBeGreaterThan(0);
    expect(row.completionTokens).toBeGreaterThan(0);
  });

  it('an error object sent with HTTP 200 is not forwarded: the client gets a 502 in OpenAI form', async () => {
    answer = '{"error": {"message": "The server is overloaded", "type": "server_error"}}';
    const res = await ask();
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string } };
    expect(body.error.code).toBeTruthy();
  });

  it('a body that is not a completion (no choices) is a 502, not forwarded', async () => {
    answer = '{"id": "x", "object": "chat.completion"}';
    const res = await ask();
    expect(res.status).toBe(502);
  });

  const chunk = (delta: object, extra: object = {}) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-s1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
  const STREAM =
    chunk({ role: 'assistant', content: 'Par' }) +
    chunk({ content: 'is.' }) +
    `data: ${JSON.stringify({ id: 'chatcmpl-s1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o', choices: [], usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } })}\n\n` +
    'data: [DONE]\n\n';

  const askStream = () =>
    fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o',
        stream: true,
        messages: [{ role: 'user', content: 'Capital of France?' }],
      }),
    });

  it('stream: the whole answer and its [DONE] arrive; the usage-only chunk asked for on the client’s behalf does not', async () => {
    streamText = STREAM;
    resetAfterStream = false;
    const res = await askStream();
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toBe(chunk({ role: 'assistant', content: 'Par' }) + chunk({ content: 'is.' }) + 'data: [DONE]\n\n');
    const row = await logOf(gw.t, res.headers.get('x-request-id'));
    expect(row).toMatchObject({ status: 200, promptTokens: 9, completionTokens: 2, estimated: false });
  });

  it('stream: an upstream connection lost after [DONE] does not turn a complete answer into a failure', async () => {
    streamText = STREAM;
    resetAfterStream = true;
    const res = await askStream();
    const text = await res.text();
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(text).not.toContain('"error"');
    const row = await logOf(gw.t, res.headers.get('x-request-id'));
    expect(row).toMatchObject({ status: 200, errorCode: null, promptTokens: 9, completionTokens: 2 });
  });

  it('stream: an upstream that sends only [DONE] is a 502 (nothing reaches the client as a success)', async () => {
    streamText = 'data: [DONE]\n\n';
    resetAfterStream = false;
    const res = await askStream();
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.message).toMatch(/ended the stream without any data/);
  });

  /** `text` as bytes cut at `cuts` (byte offsets), so events and multi-byte characters are split across reads. */
  const cutAt = (text: string, cuts: number[]): Buffer[] => {
    const bytes = Buffer.from(text);
    const out: Buffer[] = [];
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      out.push(bytes.subarray(from, cut));
      from = cut;
    }
    return out;
  };

  it('stream: events split anywhere across reads (mid-event, mid-character, between the two newlines) arrive intact', async () => {
    const text =
      chunk({ role: 'assistant', content: '巴黎' }) +
      chunk({ content: 'は首都。' }) +
      chunk({ content: ' Paris.' }) +
      STREAM.slice(
        STREAM.indexOf(
          'data: {"id":"chatcmpl-s1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[]',
        ),
      );
    const bytes = Buffer.from(text);
    const firstBlank = bytes.indexOf('\n\n');
    const multiByte = bytes.indexOf(Buffer.from('黎')) + 1;
    streamPieces = cutAt(text, [5, multiByte, firstBlank + 1, firstBlank + 40, bytes.length - 10]);
    try {
      const res = await askStream();
      const body = await res.text();
      const expected = text.slice(
        0,
        text.indexOf(
          'data: {"id":"chatcmpl-s1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[]',
        ),
      );
      expect(body).toBe(`${expected}data: [DONE]\n\n`);
      const row = await logOf(gw.t, res.headers.get('x-request-id'));
      expect(row).toMatchObject({ status: 200, promptTokens: 9, completionTokens: 2, estimated: false });
    } finally {
      streamPieces = undefined;
    }
  });

  it('stream: CRLF framing, comments and event fields are parsed, and forwarded as plain data events', async () => {
    streamPieces = [
      Buffer.from(`: keep-alive\r\n\r\n${chunk({ role: 'assistant', content: 'Hi' }).replace('\n\n', '\r\n\r\n')}`),
      Buffer.from(`event: message\r\n${chunk({ content: '!' }).replace('\n\n', '\r\n\r\n')}data: [DONE]\r\n\r\n`),
    ];
    try {
      const res = await askStream();
      expect(await res.text()).toBe(
        `${chunk({ role: 'assistant', content: 'Hi' })}${chunk({ content: '!' })}data: [DONE]\n\n`,
      );
    } finally {
      streamPieces = undefined;
    }
  });

  it('stream: with no usage from the upstream, what was forwarded is counted with the tokenizer (estimated)', async () => {
    streamText = `${chunk({ role: 'assistant', content: 'Paris is the capital of France.' })}data: [DONE]\n\n`;
    resetAfterStream = false;
    const res = await askStream();
    expect(await res.text()).toContain('Paris is the capital of France.');
    const row = await logOf(gw.t, res.headers.get('x-request-id'));
    expect(row).toMatchObject({ status: 200, estimated: true });
    expect(row.completionTokens).toBeGreaterThanOrEqual(6);
  });
});
