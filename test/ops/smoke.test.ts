import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Call, client, register, startTestApp, type TestApp } from '../support/app.js';
import { ENGINES } from '../support/databases.js';

describe.each(ENGINES)('smoke (%s)', (engine) => {
  let t: TestApp;
  let call: Call;
  beforeAll(async () => {
    t = await startTestApp({ engine });
    call = client(t.url);
  });
  afterAll(async () => t?.close());

  it('registers, creates a key and lists it by hint only', async () => {
    const me = await register(call, 'smoke@example.com');
    const created = await call<{ secret: string; key: { id: string; hint: string } }>('POST', '/api/keys', {
      token: me.token,
      body: { name: 'k1' },
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^sk-[A-Za-z0-9_-]{43}$/);
    const list = await call<{ data: Array<Record<string, unknown>> }>('GET', '/api/keys', { token: me.token });
    expect(list.body.data).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(created.body.secret);
    expect(list.body.data[0]?.hint).toBe(created.body.key.hint);
  });
});
