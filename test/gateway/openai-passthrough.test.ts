/**
 * Non-stream answers of an OpenAI channel reach the client as the upstream wrote them (as streams do): no
 * normalising, no re-serialising. Anything that is not a well-formed completion still goes through the
 * adapter, which rejects it; other OpenAI-compatible servers are still normalised (passthrough.suite.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addChannel, addModel, type GatewayUnderTest, logOf, startGateway } from './harness.js';

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

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
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
});
