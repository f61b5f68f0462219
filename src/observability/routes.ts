/**
 * GET /metrics: on the public port only with a bearer token (AIHUB_METRICS_TOKEN) or an IP allow list
 * (AIHUB_METRICS_ALLOW_IPS), and on a port of its own (AIHUB_METRICS_PORT), which needs either only when
 * set. When both are set both apply. Without any there is no route (404): metrics are off by default.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../core/errors.js';
import { ipInCidrs } from '../core/ip.js';
import { safeEqual } from '../core/secrets.js';
import { bearerToken } from '../http/bearer.js';
import type { Metrics } from './metrics.js';

const CHALLENGE = { 'www-authenticate': 'Bearer realm="metrics"' };

/** Whether the request presents the metrics token (always true when no token is configured). */
function authorized(token: string | undefined, header: string | undefined): boolean {
  if (token === undefined) return true;
  const presented = bearerToken(header);
  return presented !== undefined && safeEqual(presented, token);
}

/** Whether the client address may scrape (always true without an allow list). */
function allowedIp(allowIps: readonly string[], ip: string | undefined): boolean {
  return allowIps.length === 0 || (ip !== undefined && ipInCidrs(ip, [...allowIps]));
}

/**
 * GET /metrics on the public app: served with a token or an IP allow list configured, else a 404 (not the
 * console's page). The client address is the proxy-aware one (AIHUB_TRUST_PROXY).
 */
export function registerMetricsRoute(
  app: FastifyInstance,
  metrics: Metrics | undefined,
  token: string | undefined,
  allowIps: readonly string[] = [],
): void {
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (!metrics || (token === undefined && allowIps.length === 0))
      throw new ApiError(
        'not_found',
        'Metrics are not served on this port (set AIHUB_METRICS_TOKEN or AIHUB_METRICS_ALLOW_IPS, or AIHUB_METRICS_PORT for a port of their own)',
      );
    if (!allowedIp(allowIps, request.ip))
      throw new ApiError('ip_not_allowed', `Metrics are not served to ${request.ip} (AIHUB_METRICS_ALLOW_IPS)`);
    if (!authorized(token, request.headers.authorization)) {
      const presented = bearerToken(request.headers.authorization) !== undefined;
      throw new ApiError(
        'unauthorized',
        presented ? 'Wrong metrics token' : 'Send Authorization: Bearer <metrics token>',
        {
          headers: CHALLENGE,
        },
      );
    }
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  });
}

/** A listener of its own that answers GET /metrics (and nothing else). */
export async function listenForMetrics(
  metrics: Metrics,
  options: { port: number; host: string; token: string | undefined; allowIps?: readonly string[] },
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req: IncomingMessage, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: this port serves GET /metrics\n');
      return;
    }
    if (!allowedIp(options.allowIps ?? [], req.socket.remoteAddress)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('Forbidden: this address may not read the metrics\n');
      return;
    }
    if (!authorized(options.token, req.headers.authorization)) {
      res.writeHead(401, { 'content-type': 'text/plain', ...CHALLENGE }).end('Unauthorized\n');
      return;
    }
    metrics.render().then(
      ({ contentType, body }) =>
        res.writeHead(200, { 'content-type': contentType }).end(req.method === 'HEAD' ? undefined : body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('Could not collect the metrics\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
