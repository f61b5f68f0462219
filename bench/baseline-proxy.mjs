// The physical limit for a Node gateway here: node:http in, undici Pool out, request body buffered,
// response streamed back with backpressure. No auth, no routing, no accounting.
import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

const upstream = new Pool(process.env.UPSTREAM, { connections: 128, pipelining: 1 });
const server = createServer((req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', async () => {
    try {
      const { statusCode, headers, body } = await upstream.request({
        path: req.url,
        method: req.method,
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-fake' },
        body: Buffer.concat(parts),
      });
      res.writeHead(statusCode, { 'content-type': headers['content-type'] ?? 'application/json' });
      await pipeline(body, res);
    } catch {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.send?.({ port: server.address().port });
});
