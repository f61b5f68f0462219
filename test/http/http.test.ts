import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ErrorBody, uniqueEmail } from '../support/accounts.js';
import { type Call, client, register, startTestApp, type TestApp } from '../support/app.js';
import { ENGINES } from '../support/databases.js';

const REQUEST_ID = /^req_[0-9a-z]{26}$/;
const CONSOLE_ORIGIN = 'https://console.example.com';

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}

describe.each(ENGINES)('http surface (%s)', (engine) => {
  let t: TestApp;
  let call: Call;
  beforeAll(async () => {
    t = await startTestApp({ engine });
    call = client(t.url);
  });
  afterAll(async () => t?.close());

  describe('probes and docs', () => {
    it('answers GET /health with 200', async () => {
      const res = await call('GET', '/health');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('answers GET /ready with 200 and the database engine', async () => {
      const res = await call('GET', '/ready');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ready', database: engine });
    });

    it('serves an OpenAPI 3 document with the control-plane paths and shared schemas', async () => {
      const res = await call<OpenApiDocument>('GET', '/openapi.json');
      expect(res.status).toBe(200);
      expect(res.body.openapi).toMatch(/^3\./);
      for (const path of [
        '/api/auth/login',
        '/api/auth/register',
        '/api/keys',
        '/api/keys/{id}',
        '/api/admin/users',
        '/api/admin/audit',
      ]) {
        expect(res.body.paths, path).toHaveProperty([path]);
      }
      expect(Object.keys(res.body.paths['/api/keys'] ?? {})).toEqual(expect.arrayContaining(['get', 'post']));
      expect(res.body.paths).not.toHaveProperty(['/health']);
      const { User, ApiKey } = res.body.components.schemas;
      expect(User?.properties).toHaveProperty('email');
      expect(User?.properties).not.toHaveProperty('passwordHash');
      expect(ApiKey?.properties).toHaveProperty('hint');
      expect(ApiKey?.properties).not.toHaveProperty('secret');
    });

    it('serves the API reference as HTML under /docs/', async () => {
      const res = await fetch(`${t.url}/docs/`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await res.text()).toMatch(/<html/i);
    });
  });

  describe('request ids and errors', () => {
    it('puts an x-request-id on every answer: success, 404, 401, 400', async () => {
      const answers = [
        await call('GET', '/health'),
        await call('GET', '/api/no/such/route'),
        await call('GET', '/api/me'),
        await call('POST', '/api/auth/login', { raw: '{' }),
      ];
      expect(answers.map((a) => a.status)).toEqual([200, 404, 401, 400]);
      const ids = answers.map((a) => a.headers.get('x-request-id'));
      for (const id of ids) expect(id).toMatch(REQUEST_ID);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('repeats the request id inside /api error bodies', async () => {
      for (const res of [await call<ErrorBody>('GET', '/api/me'), await call<ErrorBody>('GET', '/api/nothing-here')]) {
        expect(res.body.error.requestId).toMatch(REQUEST_ID);
        expect(res.body.error.requestId).toBe(res.headers.get('x-request-id'));
      }
    });

    it('ignores a client-sent x-request-id (ids are ours, not spoofable into logs)', async () => {
      const res = await call('GET', '/health', { headers: { 'x-request-id': 'req_spoofed' } });
      expect(res.headers.get('x-request-id')).toMatch(REQUEST_ID);
    });

    it('answers an unknown route with 404 JSON not_found', async () => {
      const res = await call<ErrorBody>('GET', '/api/does-not-exist?x=1');
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body.error.code).toBe('not_found');
      expect(res.body.error.message).toContain('/api/does-not-exist');
      expect((await call<ErrorBody>('DELETE', '/nowhere')).body.error.code).toBe('not_found');
    });

    it('answers a non-JSON content type on a JSON route with 415', async () => {
      const res = await call<ErrorBody>('POST', '/api/auth/login', {
        raw: 'email=a',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe('unsupported_media_type');
    });
  });

  describe('security headers', () => {
    it('sends nosniff and a content security policy on /api answers, including errors', async () => {
      for (const res of [await call('GET', '/api/settings/public'), await call('GET', '/api/me')]) {
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
        expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      }
    });

    it('sends no CORS headers when AIHUB_CORS_ORIGINS is unset', async () => {
      const res = await fetch(`${t.url}/api/auth/login`, {
        method: 'OPTIONS',
        headers: { origin: CONSOLE_ORIGIN, 'access-control-request-method': 'POST' },
      });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      const get = await call('GET', '/api/settings/public', { headers: { origin: CONSOLE_ORIGIN } });
      expect(get.headers.get('access-control-allow-origin')).toBeNull();
    });
  });

  describe('CORS with AIHUB_CORS_ORIGINS', () => {
    let cors: TestApp;
    beforeAll(async () => {
      cors = await startTestApp({ engine, env: { AIHUB_CORS_ORIGINS: CONSOLE_ORIGIN } });
    });
    afterAll(async () => cors?.close());

    const preflight = (origin: string, method: string) =>
      fetch(`${cors.url}/api/auth/login`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': method,
          'access-control-request-headers': 'content-type,authorization',
        },
      });

    it('allows a preflight from the configured origin, with credentials', async () => {
      const res = await preflight(CONSOLE_ORIGIN, 'POST');
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get('access-control-allow-origin')).toBe(CONSOLE_ORIGIN);
      expect(res.headers.get('access-control-allow-credentials')).toBe('true');
      expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    });

    it('gives another origin no access-control-allow-origin', async () => {
      const res = await preflight('https://evil.example.com', 'POST');
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      const get = await client(cors.url)('GET', '/api/settings/public', {
        headers: { origin: 'https://evil.example.com' },
      });
      expect(get.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('lets the allowed origin read a real answer', async () => {
      const c = client(cors.url);
      const me = await register(c, uniqueEmail('cors'));
      const res = await c('GET', '/api/me', { token: me.token, headers: { origin: CONSOLE_ORIGIN } });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe(CONSOLE_ORIGIN);
    });

    // @fastify/cors allows only GET, HEAD and POST unless told otherwise.
    it('allows PATCH and DELETE from the configured origin', async () => {
      for (const method of ['PATCH', 'DELETE']) {
        const res = await preflight(CONSOLE_ORIGIN, method);
        expect(res.headers.get('access-control-allow-methods') ?? '').toContain(method);
      }
    });
  });
});
