import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../core/errors.js';

/** Where `npm run build` puts the console (dist/web, from both src/http and dist/http). */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../dist/web', import.meta.url));

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>AI Hub</title>
<p>The web console is not built. Run <code>npm run build</code> (or <code>npm start</code>, which builds it) and reload.</p>
<p>The API is up: see <a href="/docs">/docs</a>.</p>`;

/** Paths that never fall back to the console: the API (JSON 404s) and missing assets. */
function isApiPath(path: string): boolean {
  return /^\/(api|v1|assets)(\/|$)/.test(path);
}

/**
 * Serve the web console: hashed assets with a year of caching (pre-compressed .br/.gz when the browser
 * takes them), and index.html for every other GET path so the console's own router (history mode) works.
 */
export async function registerConsole(scope: FastifyInstance, webDir = DEFAULT_WEB_DIR): Promise<void> {
  const indexFile = `${webDir}/index.html`;
  const built = existsSync(indexFile);
  const indexHtml = built ? readFileSync(indexFile) : Buffer.from(NOT_BUILT);
  if (built) {
    await scope.register(fastifyStatic, {
      root: webDir,
      wildcard: false,
      index: false,
      preCompressed: true,
      setHeaders: (res, path) => {
        res.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  } else scope.log.warn(`web console not built (${indexFile} missing): run npm run build`);

  const sendIndex = async (request: { url: string; method: string }, reply: import('fastify').FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (isApiPath(path)) throw new ApiError('not_found', `No route for ${request.method} ${path}`);
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(indexHtml);
  };
  scope.get('/', { schema: { hide: true } }, sendIndex);
  scope.get('/*', { schema: { hide: true } }, sendIndex);
}
