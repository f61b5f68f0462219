import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { lazySchemaCompilers } from './lazy-schemas.js';

const ajv = { customOptions: { removeAdditional: false, coerceTypes: 'array' as const, useDefaults: true } };

/** The same routes on a Fastify with its default (eager) compilers and on one with the lazy ones. */
async function build(lazy: boolean): Promise<FastifyInstance> {
  const app = Fastify({ ajv, ...(lazy ? { schemaController: { compilersFactory: lazySchemaCompilers() } } : {}) });
  app.addSchema({ $id: 'Item', type: 'object', properties: { id: { type: 'string' }, n: { type: 'integer' } } });
  app.post(
    '/items/:id',
    {
      schema: {
        params: { type: 'object', properties: { id: { type: 'string', minLength: 3 } }, required: ['id'] },
        querystring: { type: 'object', properties: { tags: { type: 'array', items: { type: 'string' } } } },
        body: {
          type: 'object',
          properties: { n: { type: 'integer', minimum: 1 }, mode: { type: 'string', default: 'fast' } },
          required: ['n'],
          additionalProperties: false,
        },
        response: { 200: { $ref: 'Item#' } },
      },
    },
    async (request) => {
      const body = request.body as { n: number; mode: string };
      const query = request.query as { tags?: string[] };
      return { id: (request.params as { id: string }).id, n: body.n, mode: body.mode, tags: query.tags, secret: 'x' };
    },
  );
  app.get('/echo', async (request) => request.query);
  return app;
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe('lazySchemaCompilers', () => {
  const cases = [
    { name: 'valid body, defaults applied, extra response fields dropped', url: '/items/abc', payload: { n: 2 } },
    { name: 'query coerced to an array', url: '/items/abc?tags=a', payload: { n: 2 } },
    { name: 'body below the minimum', url: '/items/abc', payload: { n: 0 } },
    { name: 'missing required field', url: '/items/abc', payload: {} },
    { name: 'unknown field', url: '/items/abc', payload: { n: 1, other: true } },
    { name: 'params too short', url: '/items/ab', payload: { n: 1 } },
  ];

  it.each(cases)('answers as the eager compilers do: $name', async ({ url, payload }) => {
    const eager = await build(false);
    const lazy = await build(true);
    apps.push(eager, lazy);
    const a = await eager.inject({ method: 'POST', url, payload });
    const b = await lazy.inject({ method: 'POST', url, payload });
    expect(b.statusCode).toBe(a.statusCode);
    expect(b.json()).toEqual(a.json());
  });

  it('validates again after the first call (the compiled validator is kept, its errors refreshed)', async () => {
    const lazy = await build(true);
    apps.push(lazy);
    const bad = await lazy.inject({ method: 'POST', url: '/items/abc', payload: { n: 0 } });
    const good = await lazy.inject({ method: 'POST', url: '/items/abc', payload: { n: 5 } });
    const missing = await lazy.inject({ method: 'POST', url: '/items/abc', payload: {} });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain('body/n must be >= 1');
    expect(good.json()).toEqual({ id: 'abc', n: 5 });
    expect(missing.json().message).toContain("must have required property 'n'");
  });
});
