import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
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

/** A file in the console's top directory (favicon.svg): one segment with a dot, no traversal. */
const TOP_FILE = /^\/[\w-][\w.-]*\.[\w]+$/;

/**
 * index.html of the build that is in webDir now. A rebuild (scripts/build-if-stale.mjs) renames a complete
 * build into place, so a changed inode or mtime means a new complete build: re-read it then. While the
 * directory is being swapped (or before the first build) the last good copy is kept.
 */
function currentIndex(webDir: string): () => Buffer | undefined {
  const file = join(webDir, 'index.html');
  let seen = '';
  let html: Buffer | undefined;
  return () => {
    try {
      const st = statSync(file);
      const id = `${st.ino}:${st.mtimeMs}:${st.size}`;
      if (id !== seen) {
        html = readFileSync(file);
        seen = id;
      }
    } catch {
      // Missing for a moment during a swap, or not built: keep what we have.
    }
    return html;
  };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Serve the web console: hashed assets with a year of caching (pre-compressed .br/.gz when the browser
 * takes them), and index.html for every other GET path so the console's own router (history mode) works.
 * Files are looked up per request in webDir, so a rebuild is served without a restart; the build keeps the
 * previous build's assets, so a page loaded from the previous index.html still finds its chunks.
 */
export async function registerConsole(scope: FastifyInstance, webDir = DEFAULT_WEB_DIR): Promise<void> {
  const index = currentIndex(webDir);
  if (!index()) scope.log.warn(`web console not built (${join(webDir, 'index.html')} missing): run npm run build`);
  await scope.register(fastifyStatic, {
    root: webDir,
    serve: false,
    index: false,
    preCompressed: true,
    suppressWarning: true,
    setHeaders: (res, path) => {
      res.header('cache-control', path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });

  const sendIndex = async (request: { url: string; method: string }, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (isApiPath(path)) throw new ApiError('not_found', `No route for ${request.method} ${path}`);
    if (TOP_FILE.test(path) && isFile(join(webDir, path))) return reply.sendFile(path.slice(1));
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(index() ?? Buffer.from(NOT_BUILT));
  };
  scope.get<{ Params: { '*': string } }>('/assets/*', { schema: { hide: true } }, (request, reply) =>
    reply.sendFile(`assets/${request.params['*']}`),
  );
  scope.get('/', { schema: { hide: true } }, sendIndex);
  scope.get('/*', { schema: { hide: true } }, sendIndex);
}
