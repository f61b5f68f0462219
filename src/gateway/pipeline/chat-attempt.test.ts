/**
 * The stream pump (streamChat) without HTTP: upstream bytes in arbitrary pieces, pass-through or
 * translated by the adapter's declaration, the end written with the last chunk, the usage it bills, and
 * what happens when the upstream ends or breaks early.
 */
import { describe, expect, it } from 'vitest';
import type { RequestLogsTable } from '../../infra/db/schema.js';
import { PROVIDERS } from '../../providers/registry.js';
import type { ProviderAdapter } from '../../providers/types.js';
import type { CatalogChannel, CatalogModel } from '../catalog.js';
import type { ClientStream } from '../client-stream.js';
import { openAiSink } from '../endpoints/chat-completions.js';
import type { UsageSink } from '../ports.js';
import { streamChat } from './chat-attempt.js';
import { type Attempt, AttemptAbort } from './dispatch.js';
import { CommittedFailure, UpstreamFailure } from './failure.js';
import { RequestLedger } from './ledger.js';
import type { UpstreamClient } from './upstream.js';

/** The registry's adapter that declares chat pass-through, and one that does not (translated). */
const passing = Object.values(PROVIDERS).find((p) => p.passThrough.includes('chat') && !p.inProcess) as ProviderAdapter;
const translating = Object.values(PROVIDERS).find(
  (p) => p.openaiCompatible && !p.passThrough.includes('chat') && !p.inProcess,
) as ProviderAdapter;

const chunk = (content: string) =>
  JSON.stringify({
    id: 'c1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'up',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  });
const usageChunk = JSON.stringify({
  id: 'c1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'up',
  choices: [],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
});

function fakeClient() {
  const writes: string[] = [];
  let ended: string | undefined;
  const client = {
    gone: false,
    get started() {
      return writes.length > 0 || ended !== undefined;
    },
    onGone: () => () => undefined,
    write(text: string) {
      if (ended === undefined && text) writes.push(text);
      return undefined;
    },
    // As ClientStream: only the first end counts.
    end(text = '') {
      ended ??= text;
    },
  };
  return { client: client as unknown as ClientStream, writes, ended: () => ended };
}

function upstreamSending(status: number, pieces: string[]): UpstreamClient {
  return {
    send: async () => ({
      status,
      headers: {},
      body: (async function* () {
        for (const piece of pieces) yield Buffer.from(piece);
      })(),
    }),
  } as unknown as UpstreamClient;
}

function setup(adapter: ProviderAdapter) {
  const rows: RequestLogsTable[] = [];
  const pending: Array<Promise<void>> = [];
  const sink: UsageSink = {
    expect: () => undefined,
    fulfil: () => undefined,
    track: (counting) => pending.push(counting),
    record: (row) => rows.push(row),
  };
  const channel = {
    id: 'chn_1',
    name: 'up-1',
    type: adapter.id,
    adapter,
    options: {},
    timeouts: { connectMs: 1000, firstByteMs: 1000, idleMs: 1000, totalMs: 1000 },
  } as unknown as CatalogChannel;
  const model = { name: 'm', prices: { input: 0, output: 0, cachedInput: null } } as unknown as CatalogModel;
  const ledger = new RequestLedger(
    {
      requestId: 'req_0123456789',
      caller: {
        keyId: null,
        userId: null,
        orgId: null,
        teamId: null,
        allowedModels: null,
        modelLimits: [],
        channelLimits: [],
        allowedIps: null,
        keyLimits: null,
        responseCache: false,
      },
      model,
      endpoint: 'chat',
      stream: true,
      clientIp: '127.0.0.1',
    },
    sink,
    { now: () => 0 },
  );
  const attempt: Attempt = {
    target: { channel, model, route: { channel, upstreamModel: 'up', priority: 0, weight: 1 } },
    upstream: { baseUrl: 'http://up', apiKey: 'k', upstreamModel: 'up', headers: {}, options: {} },
    signal: new AttemptAbort(),
    timedOut: () => false,
    upstreamStatus: null,
  };
  /** The rows, once every estimate still being counted is written. */
  const written = async () => {
    await Promise.all(pending);
    return rows;
  };
  return { rows, written, ledger, attempt };
}

const request = { model: 'm', messages: [{ role: 'user' as const, content: 'Hi' }], stream: true };

describe('streamChat (the stream pump)', () => {
  it('passes bytes through where the adapter declares it, in any piece sizes, ending with the last chunk', async () => {
    const { rows, ledger, attempt } = setup(passing);
    const { client, writes, ended } = fakeClient();
    const spaced = chunk('Hel').replace('"id":', '"id": ');
    const text = `data: ${spaced}\n\ndata: ${chunk('lo')}\n\ndata: ${usageChunk}\n\ndata: [DONE]\n\n`;
    const pieces = [text.slice(0, 17), text.slice(17, 90), text.slice(90)];
    await streamChat(upstreamSending(200, pieces), request, ledger, openAiSink, client, attempt);
    const out = writes.join('') + (ended() ?? '');
    // The upstream's payloads as they came; the usage chunk asked for on the client's behalf is not forwarded.
    expect(out).toBe(`data: ${spaced}\n\ndata: ${chunk('lo')}\n\ndata: [DONE]\n\n`);
    expect(ended()).toContain('data: [DONE]');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 200, prompt_tokens: 5, completion_tokens: 2, estimated: 0 });
  });

  it('forwards the usage chunk when the client asked for it', async () => {
    const { ledger, attempt } = setup(passing);
    const { client, writes, ended } = fakeClient();
    const text = `data: ${chunk('Hi')}\n\ndata: ${usageChunk}\n\ndata: [DONE]\n\n`;
    const asking = { ...request, stream_options: { include_usage: true } };
    await streamChat(upstreamSending(200, [text]), asking, ledger, openAiSink, client, attempt);
    expect(writes.join('') + (ended() ?? '')).toContain('"usage":{"prompt_tokens":5');
  });

  it('translates where the adapter does not declare pass-through', async () => {
    const { rows, ledger, attempt } = setup(translating);
    const { client, writes, ended } = fakeClient();
    // Spaced JSON: passed through it would keep its spaces; translated it is re-serialised.
    const spaced = chunk('Hi').replace('"id":', '"id": ');
    const text = `data: ${spaced}\n\ndata: ${usageChunk}\n\ndata: [DONE]\n\n`;
    await streamChat(upstreamSending(200, [text]), request, ledger, openAiSink, client, attempt);
    const out = writes.join('') + (ended() ?? '');
    expect(out).toContain('"content":"Hi"');
    expect(out).not.toContain('"id": ');
    expect(out.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(rows[0]).toMatchObject({ status: 200, prompt_tokens: 5, completion_tokens: 2 });
  });

  it('an upstream that ends without data fails the attempt before the client got anything (failover)', async () => {
    const { rows, ledger, attempt } = setup(passing);
    const { client, writes } = fakeClient();
    const pumping = streamChat(upstreamSending(200, []), request, ledger, openAiSink, client, attempt);
    await expect(pumping).rejects.toBeInstanceOf(UpstreamFailure);
    expect(writes).toEqual([]);
    expect(rows).toEqual([]);
  });

  it('an upstream error after output goes into the stream, bills what was sent, and commits', async () => {
    const { written, ledger, attempt } = setup(passing);
    const { client, ended } = fakeClient();
    const pieces = [`data: ${chunk('Hel')}\n\n`, 'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n'];
    const pumping = streamChat(upstreamSending(200, pieces), request, ledger, openAiSink, client, attempt);
    await expect(pumping).rejects.toBeInstanceOf(CommittedFailure);
    expect(ended()).toMatch(/^data: \{"error":\{"message":".*overloaded/);
    const rows = await written();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.status).toBeGreaterThanOrEqual(500);
    expect(rows[0]?.estimated).toBe(1);
  });
});
