import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazyChildLoggerFactory } from './lazy-logger.js';

function appWithLines(level = 'info') {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const app = Fastify({ logger: { level, stream }, disableRequestLogging: true });
  app.setChildLoggerFactory(lazyChildLoggerFactory);
  return { app, lines };
}

describe('lazy request loggers', () => {
  it('log with the request id once something logs, at every level the parent allows', async () => {
    const { app, lines } = appWithLines('debug');
    app.get('/x', async (request) => {
      request.log.debug({ a: 1 }, 'first');
      request.log.warn('second');
      request.log.trace('dropped');
      request.log.child({ sub: true }).info('third');
      return { level: request.log.level };
    });
    const res = await app.inject('/x');
    expect(res.json()).toEqual({ level: 'debug' });
    const reqId = lines[0]?.reqId;
    expect(reqId).toBeTruthy();
    expect(lines.map((l) => [l.msg, l.reqId, l.a ?? l.sub])).toEqual([
      ['first', reqId, 1],
      ['second', reqId, undefined],
      ['third', reqId, true],
    ]);
  });

  it('write nothing for a request that does not log, and log from an error handler', async () => {
    const { app, lines } = appWithLines();
    app.get('/quiet', async () => 'ok');
    app.get('/boom', async () => {
      throw new Error('kaput');
    });
    app.setErrorHandler((error, request, reply) => {
      request.log.error({ err: error }, 'unhandled error');
      return reply.code(500).send({ error: 'internal' });
    });
    expect((await app.inject('/quiet')).statusCode).toBe(200);
    expect(lines).toEqual([]);
    expect((await app.inject('/boom')).statusCode).toBe(500);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 50, reqId: expect.any(String), err: { message: 'kaput' } });
  });

  it('take a level change for the request only', async () => {
    const { app, lines } = appWithLines('warn');
    app.get('/x', async (request) => {
      request.log.info('hidden');
      request.log.level = 'info';
      request.log.info('shown');
      return 'ok';
    });
    await app.inject('/x');
    await app.inject('/x');
    expect(lines.map((l) => l.msg)).toEqual(['shown', 'shown']);
  });
});
