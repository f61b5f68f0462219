/**
 * Access rules on an API key: allowed models (exact names and `prefix*` wildcards), allowed client
 * addresses (CIDR, IPv4, IPv6, IPv4-mapped; the address comes from X-Forwarded-For behind a trusted
 * proxy) and expiry — on chat, messages (Anthropic error shape) and embeddings alike.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, ManualClock } from '../support/app.js';
import { type ApiError, type LimitsApp, MASTER, START, startLimitsApp } from '../support/limits.js';

describe.each(BACKENDS)('key access rules (%s counters)', (backend) => {
  let a: LimitsApp;
  const clock = new ManualClock(START);

  beforeAll(async () => {
    a = await startLimitsApp({ backend, clock });
  });
  afterAll(async () => a?.close());
  afterEach(() => {
    clock.time = START;
  });

  const listModels = async (secret: string) =>
    (await a.call<{ data: Array<{ id: string }> }>('GET', '/v1/models', { token: secret })).body.data.map((m) => m.id);
  const from = (ip: string) => ({ 'x-forwarded-for': ip });

  describe('allowed models', () => {
    it('refuses a model not on the list with 403 model_not_allowed on every route', async () => {
      const { secret } = await a.newKey({ allowedModels: ['mock-gpt'] });
      expect((await a.chat(secret)).status).toBe(200);
      expect((await a.messages(secret)).status).toBe(200);

      const chat = await a.chat(secret, { model: 'mock-reasoner' });
      expect(chat.status).toBe(403);
      expect(chat.body).toEqual({
        error: {
          message: "This API key may not use the model 'mock-reasoner'",
          type: 'permission_error',
          param: 'model',
          code: 'model_not_allowed',
        },
      });
      const messages = await a.messages(secret, { model: 'mock-reasoner' });
      expect(messages.status).toBe(403);
      expect(messages.body).toEqual({
        type: 'error',
        error: { type: 'permission_error', message: "This API key may not use the model 'mock-reasoner'" },
      });
      const embeddings = await a.embed(secret);
      expect(embeddings.status).toBe(403);
      expect(embeddings.body.error.code).toBe('model_not_allowed');

      expect(await listModels(secret)).toEqual(['mock-gpt']);
      expect((await a.call('GET', '/v1/models/mock-gpt', { token: secret })).status).toBe(200);
      const hidden = await a.call<ApiError>('GET', '/v1/models/mock-embedding', { token: secret });
      expect(hidden.status).toBe(404);
      expect(hidden.body.error.code).toBe('model_not_found');
      // A model that does not exist is "not found", whatever the list says.
      expect((await a.chat(secret, { model: 'no-such-model' })).body.error.code).toBe('model_not_found');
    });

    it('matches prefix* wildcards, and * allows everything', async () => {
      const { secret } = await a.newKey({ allowedModels: ['mock-r*', 'mock-emb*'] });
      expect((await a.chat(secret, { model: 'mock-reasoner' })).status).toBe(200);
      expect((await a.embed(secret)).status).toBe(200);
      const gpt = await a.chat(secret);
      expect(gpt.status).toBe(403);
      expect(gpt.body.error.code).toBe('model_not_allowed');
      expect(await listModels(secret)).toEqual(['mock-embedding', 'mock-reasoner']);

      const all = await a.newKey({ allowedModels: ['*'] });
      expect(await listModels(all.secret)).toEqual(['mock-embedding', 'mock-gpt', 'mock-reasoner']);
      expect((await a.chat(all.secret)).status).toBe(200);
    });

    it('takes a change of the list into account at once, and null lifts it', async () => {
      const { secret, key } = await a.newKey({ allowedModels: ['mock-gpt'] });
      expect((await a.embed(secret)).status).toBe(403);
      const patched = await a.call<{ allowedModels: string[] | null }>('PATCH', `/api/keys/${key.id}`, {
        token: MASTER,
        body: { allowedModels: ['mock-embedding'] },
      });
      expect(patched.body.allowedModels).toEqual(['mock-embedding']);
      expect((await a.embed(secret)).status).toBe(200);
      expect((await a.chat(secret)).status).toBe(403);
      await a.call('PATCH', `/api/keys/${key.id}`, { token: MASTER, body: { allowedModels: null } });
      expect((await a.chat(secret)).status).toBe(200);
    });

    it('refuses before anything is reserved, and logs each refusal with nothing billed', async () => {
      const { secret, key } = await a.newKey({ allowedModels: ['mock-gpt'], budgetMicros: 1, rpm: 1 });
      for (let i = 0; i < 3; i++) expect((await a.chat(secret, { model: 'mock-reasoner' })).status).toBe(403);
      expect((await a.chat(secret, { model: 'no-such-model' })).status).toBe(404);
      // The refusals took no rate point and no budget: the one request a minute still gets through.
      expect((await a.chat(secret)).status).toBe(200);
      const rows = await a.logs('key_id', key.id);
      const refusals = rows.filter((r) => r.status !== 200).map((r) => [r.status, r.model, r.cost, r.tokens]);
      expect(refusals.sort()).toEqual([
        [403, 'mock-reasoner', 0, 0],
        [403, 'mock-reasoner', 0, 0],
        [403, 'mock-reasoner', 0, 0],
        [404, 'no-such-model', 0, 0],
      ]);
      const served = rows.filter((r) => r.status === 200);
      expect(served.map((r) => r.model)).toEqual(['mock-gpt']);
      expect(served[0]?.cost).toBeGreaterThan(0);
    });
  });

  describe('allowed client addresses', () => {
    it('admits IPv4 and IPv6 addresses inside the ranges, IPv4-mapped included, and refuses the rest with 403', async () => {
      const { secret, key } = await a.newKey({ allowedIps: ['203.0.113.0/24', '2001:db8::/32', '192.0.2.7'] });
      for (const ip of [
        '203.0.113.9',
        '203.0.113.255',
        '::ffff:203.0.113.10',
        '2001:db8:1::5',
        '2001:0db8:ffff::1',
        '192.0.2.7',
      ]) {
        expect((await a.chat(secret, {}, from(ip))).status, ip).toBe(200);
      }
      for (const ip of [
        '198.51.100.1',
        '203.0.114.1',
        '::ffff:198.51.100.1',
        '2001:db9::1',
        '2001:db7:ffff::1',
        '192.0.2.8',
        '::1',
      ]) {
        const res = await a.chat(secret, {}, from(ip));
        expect(res.status, ip).toBe(403);
        expect(res.body.error).toEqual({
          message: `This API key may not be used from ${ip}`,
          type: 'permission_error',
          param: null,
          code: 'ip_not_allowed',
        });
      }
      // The key's owner and the admin see the refusals in the log, nothing billed.
      const refused = (await a.logs('key_id', key.id)).filter((r) => r.status !== 200);
      expect(refused.map((r) => [r.status, r.cost, r.tokens])).toEqual(Array(7).fill([403, 0, 0]));
    });

    it('refuses on messages (Anthropic shape) and embeddings too', async () => {
      const { secret } = await a.newKey({ allowedIps: ['2001:db8::/32'] });
      expect((await a.messages(secret, {}, from('2001:db8::1'))).status).toBe(200);
      const messages = await a.messages(secret, {}, from('203.0.113.1'));
      expect(messages.status).toBe(403);
      expect(messages.body).toEqual({
        type: 'error',
        error: { type: 'permission_error', message: 'This API key may not be used from 203.0.113.1' },
      });
      expect((await a.embed(secret, {}, from('2001:db8::2'))).status).toBe(200);
      const embeddings = await a.embed(secret, {}, from('2001:dead::2'));
      expect(embeddings.status).toBe(403);
      expect(embeddings.body.error.code).toBe('ip_not_allowed');
    });

    it('accepts an IPv4-mapped range for IPv4 clients', async () => {
      const { secret } = await a.newKey({ allowedIps: ['::ffff:10.0.0.0/104'] });
      expect((await a.chat(secret, {}, from('10.20.30.40'))).status).toBe(200);
      expect((await a.chat(secret, {}, from('11.0.0.1'))).status).toBe(403);
    });

    it('refuses invalid ranges when the key is made or changed, naming the field', async () => {
      for (const bad of ['300.1.2.3/8', '10.0.0.0/33', '2001:db8::/129', 'localhost']) {
        const res = await a.call<{ error: { code: string; message: string } }>('POST', '/api/keys', {
          token: MASTER,
          body: { name: 'bad', userId: a.ownerId, allowedIps: [bad] },
        });
        expect(res.status, bad).toBe(400);
        expect(res.body.error.message).toContain('allowedIps');
      }
      const { key } = await a.newKey({});
      const patch = await a.call<{ error: { message: string } }>('PATCH', `/api/keys/${key.id}`, {
        token: MASTER,
        body: { allowedIps: ['1.2.3.4/40'] },
      });
      expect(patch.status).toBe(400);
      expect(patch.body.error.message).toContain('allowedIps');
    });

    it('applies the address restriction to GET /v1/models as well', async () => {
      const { secret } = await a.newKey({ allowedIps: ['203.0.113.0/24'] });
      const res = await a.call<ApiError>('GET', '/v1/models', { token: secret, headers: from('198.51.100.1') });
      expect(res.status).toBe(403);
      expect(res.body.error.code).toBe('ip_not_allowed');
    });
  });

  describe('expiry', () => {
    it('stops a key at its expiry time on every route', async () => {
      const expiresAt = START + 3_600_000;
      const { secret } = await a.newKey({ expiresAt });
      expect((await a.chat(secret)).status).toBe(200);
      clock.time = expiresAt - 1;
      expect((await a.embed(secret)).status).toBe(200);
      clock.time = expiresAt;
      const chat = await a.chat(secret);
      expect(chat.status).toBe(401);
      expect(chat.body.error).toMatchObject({ code: 'invalid_api_key', message: 'This API key has expired' });
      const messages = await a.messages(secret);
      expect(messages.status).toBe(401);
      expect(messages.body.error).toEqual({ type: 'authentication_error', message: 'This API key has expired' });
      expect((await a.embed(secret)).status).toBe(401);
      expect((await a.call('GET', '/api/usage/current', { token: secret })).status).toBe(401);
    });

    it('refuses an expiry in the past, and a later PATCH can extend it', async () => {
      const past = await a.call<{ error: { message: string } }>('POST', '/api/keys', {
        token: MASTER,
        body: { name: 'old', userId: a.ownerId, expiresAt: START - 1 },
      });
      expect(past.status).toBe(400);
      expect(past.body.error.message).toContain('expiresAt');
      const { secret, key } = await a.newKey({ expiresAt: START + 1_000 });
      clock.time = START + 2_000;
      expect((await a.chat(secret)).status).toBe(401);
      const extended = await a.call('PATCH', `/api/keys/${key.id}`, {
        token: MASTER,
        body: { expiresAt: START + 86_400_000 },
      });
      expect(extended.status).toBe(200);
      expect((await a.chat(secret)).status).toBe(200);
    });
  });
});
