import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUTS } from '../modules/channels/options.js';
import { readText, UpstreamClient } from './upstream.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('UpstreamClient', () => {
  let server: Server;
  let url: string;
  const routes = new Map<string, Handler>();
  /** Whether the server saw the client close a response before it ended, per path. */
  const closedEarly = new Map<string, boolean>();
  const client = new UpstreamClient();

  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = req.url ?? '/';
      res.on('close', () => closedEarly.set(path, !res.writableFinished));
      req.resume();
      req.on('end', () => routes.get(path)?.(req, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const send = (path: string, signal?: EventEmitter | AbortSignal) =>
    client.send(
      { method: 'POST', url: `${url}${path}`, headers: { 'content-type': 'application/json' }, body: '{}' },
      DEFAULT_TIMEOUTS,
      signal,
    );
  const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('gives status, headers and the body as text, multi-byte characters split across reads included', async () => {
    const text = `{"answer":"${'é中'.repeat(5000)}"}`;
    const bytes = Buffer.from(text);
    routes.set('/text', (_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      // Cut inside a multi-byte character on purpose.
      res.write(bytes.subarray(0, 13));
      setTimeout(() => res.end(bytes.subarray(13)), 5);
    });
    const res = await send('/text');
    expect(res.status).toBe(201);
    expect(res.headers['x-upstream']).toBe('yes');
    expect(await res.body.text()).toBe(text);
  });

  it('streams a body larger than it buffers to a slow reader, pausing the upstream, without losing a byte', async () => {
    const piece = Buffer.alloc(16 * 1024, 'a');
    const pieces = 64; // 1 MiB, 16 × the body's buffer
    routes.set('/big', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let sent = 0;
      const more = () => {
        while (sent < pieces) {
          sent++;
          if (!res.write(piece)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });
    const res = await send('/big');
    let received = 0;
    let reads = 0;
    for await (const chunk of res.body) {
      received += chunk.length;
      if (++reads % 8 === 0) await tick(1);
    }
    expect(received).toBe(piece.length * pieces);
  });

  it('aborts the upstream request when the reader stops early', async () => {
    routes.set('/endless', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(() => res.write('data: {}\n\n'), 2);
      res.on('close', () => clearInterval(timer));
    });
    const res = await send('/endless');
    for await (const _chunk of res.body) break;
    await expect.poll(() => closedEarly.get('/endless')).toBe(true);
  });

  it('follows an abort signal: before the answer rejects, during the body throws from the reader', async () => {
    routes.set('/slow', (_req, res) => {
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(200);
        res.write('part');
      }, 30);
    });
    const before = new EventEmitter() as EventEmitter & { aborted?: boolean; reason?: unknown };
    const pending = send('/slow', before);
    setTimeout(() => before.emit('abort'), 5);
    await expect(pending).rejects.toMatchObject({ code: 'UND_ERR_ABORTED' });

    const controller = new AbortController();
    routes.set('/partial', (_req, res) => {
      res.writeHead(200);
      res.write('part');
    });
    const res = await send('/partial', controller.signal);
    const reading = readText(res.body);
    await tick(5);
    controller.abort(new Error('client gone'));
    await expect(reading).rejects.toThrow('client gone');
    await expect.poll(() => closedEarly.get('/partial')).toBe(true);
    // Already aborted: nothing is sent.
    await expect(send('/partial', controller.signal)).rejects.toThrow('client gone');
  });

  it('hands over what came before an upstream failure, then the failure', async () => {
    routes.set('/cut', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      setTimeout(() => res.destroy(), 10);
    });
    const res = await send('/cut');
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of res.body) seen.push(chunk.toString());
      })(),
    ).rejects.toBeInstanceOf(Error);
    expect(seen.join('')).toBe('data: first\n\n');
  });
});
