/**
 * No usage record is lost: 200 concurrent requests (chat, stream, /v1/messages, embeddings) on the mock
 * channel, the server shut down while streams are still running (the production order: app.close(),
 * then services.close(), which flushes the batched writer), then the rows counted with a fresh query.
 */
import { Agent, fetch as undiciFetch } from 'undici';
import { describe, expect, it } from 'vitest';
import { client, register, startTestApp } from '../support/app.js';
import { ENGINES } from '../support/databases.js';
import { createKey, MASTER_KEY, uniqueEmail } from '../support/gateway.js';

const REQUESTS = 200;

/** Registers this suite in the calling test file (one test process hosts several suites). */
export function durabilitySuite(): void {
  describe.each(ENGINES)('no usage record lost on shutdown (%s)', (engine) => {
    it(`${REQUESTS} concurrent requests, shutdown while streams run: ${REQUESTS} rows`, async () => {
      const t = await startTestApp({ engine, env: { AIHUB_MASTER_KEY: MASTER_KEY } });
      let dropped = false;
      try {
        const call = client(t.url);
        const admin = await register(call, uniqueEmail('durability'));
        const { secret } = await createKey(call, admin.token);
        // A slow mock stream (5 ms between chunks) keeps streams in flight when shutdown starts.
        const channel = await t.services.channels.create({
          name: 'durable-mock',
          type: 'mock',
          options: { provider: { chunkDelayMs: '5' } },
        });
        await t.services.models.create({
          name: 'durable-gpt',
          inputPrice: 1_000_000,
          outputPrice: 2_000_000,
          routes: [{ channelId: channel.id, upstreamModel: 'mock-gpt' }],
        });
        await t.services.models.create({
          name: 'durable-embed',
          routes: [{ channelId: channel.id, upstreamModel: 'mock-embedding' }],
        });

        const headers = { 'content-type': 'application/json', authorization: `Bearer ${secret}` };
        const bodies = Array.from({ length: REQUESTS }, (_, i) => {
          const content = `Request number ${i}`;
          switch (i % 4) {
            case 0:
              return {
                path: '/v1/chat/completions',
                body: { model: 'durable-gpt', messages: [{ role: 'user', content }] },
              };
            case 1:
              return {
                path: '/v1/chat/completions',
                body: { model: 'durable-gpt', stream: true, messages: [{ role: 'user', content }] },
              };
            case 2:
              return {
                path: '/v1/messages',
                body: { model: 'durable-gpt', max_tokens: 64, stream: true, messages: [{ role: 'user', content }] },
              };
            default:
              return { path: '/v1/embeddings', body: { model: 'durable-embed', input: content } };
          }
        });
        // Clients that drop idle connections quickly: app.close() waits for connections that were busy
        // when it began until their clients close them (see the report on shutdown and keep-alive).
        const dispatcher = new Agent({ keepAliveTimeout: 10, keepAliveMaxTimeout: 10, connections: 50 });
        // Every response has started (headers received) before shutdown begins; streams are mid-way.
        const responses = await Promise.all(
          bodies.map(({ path, body }) =>
            undiciFetch(`${t.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body), dispatcher }),
          ),
        );
        expect(responses.map((r) => r.status)).toEqual(Array(REQUESTS).fill(200));

        // Shutdown starts while requests are still running (not all settled yet).
        const settled = await t.database.handle.db
          .selectFrom('request_logs')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        expect(Number(settled.n) + t.services.recorder.pending).toBeLessThan(REQUESTS);
        const closing = t.app.close();
        const texts = await Promise.all(responses.map((r) => r.text()));
        await closing;
        await t.services.close();
        await dispatcher.close();
        // Every stream ran to its end despite the shutdown.
        texts.forEach((text, i) => {
          if (i % 4 === 1) expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
          if (i % 4 === 2) expect(text).toContain('event: message_stop');
        });

        const row = await t.database.handle.db
          .selectFrom('request_logs')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow();
        expect(Number(row.n)).toBe(REQUESTS);
        const statuses = await t.database.handle.db.selectFrom('request_logs').select(['status', 'endpoint']).execute();
        expect(statuses.every((r) => r.status === 200)).toBe(true);
        expect(statuses.filter((r) => r.endpoint === 'embeddings')).toHaveLength(REQUESTS / 4);
        await t.database.drop();
        dropped = true;
      } finally {
        if (!dropped) await t.close().catch(() => undefined);
      }
    });
  });
}
