import { describe, expect, it } from 'vitest';
import { seedDemo } from '../../src/demo.js';
import { client, register, startTestApp } from '../support/app.js';

describe('graceful shutdown', () => {
  it('lets an in-flight stream finish, refuses new requests, and writes every usage record', async () => {
    const t = await startTestApp();
    const call = client(t.url);
    const admin = await register(call, 'shutdown@example.com');
    await seedDemo(t.services);
    const key = (await call<{ secret: string }>('POST', '/api/keys', { token: admin.token, body: { name: 'k' } })).body
      .secret;
    const db = t.database.handle.db;

    // The demo channel streams with 20 ms between chunks: this answer takes a while.
    const inflight = fetch(`${t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'mock-gpt',
        stream: true,
        messages: [{ role: 'user', content: 'a long story please' }],
      }),
    }).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 100));

    // What `aihub start` does on SIGTERM: close the server (waits for in-flight work), then the services.
    const closing = t.app.close().then(() => t.services.close());
    const text = await inflight;
    await closing;
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    await expect(fetch(`${t.url}/health`)).rejects.toThrow();

    const rows = await db.selectFrom('request_logs').select(['status', 'completion_tokens']).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]?.status).toBe(200);
    expect(rows[0]?.completion_tokens).toBeGreaterThan(0);
    await t.database.drop();
  });
});
