/**
 * Generate the console's API types (web/src/api/schema.d.ts) from the server's OpenAPI document, so the
 * console never holds hand-written copies of API types. Run with `npm run web:types` after changing a route;
 * test/web/api-types.test.ts fails when the committed file is out of date.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config/index.js';
import { openRuntime } from '../src/server.js';

export const SCHEMA_FILE = new URL('../web/src/api/schema.d.ts', import.meta.url);

const HEADER = '// Generated from the server\'s /openapi.json by `npm run web:types`. Do not edit.\n\n';

/** The OpenAPI document the server serves at /openapi.json. */
export async function readOpenApi(): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'aihub-openapi-'));
  const runtime = await openRuntime(loadConfig({ AIHUB_DATA_DIR: dataDir, AIHUB_LOG_LEVEL: 'silent' }));
  try {
    const app = await buildApp(runtime.services, { logger: false });
    await app.ready();
    const spec = app.swagger() as unknown as Record<string, unknown>;
    await app.close();
    return spec;
  } finally {
    await runtime.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** TypeScript declarations for an OpenAPI document. */
export async function apiTypes(spec: Record<string, unknown>): Promise<string> {
  // biome-ignore lint/suspicious/noExplicitAny: openapi-typescript takes its own OpenAPI3 type
  return HEADER + astToString(await openapiTS(spec as any));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  writeFileSync(SCHEMA_FILE, await apiTypes(await readOpenApi()));
  console.log(`wrote ${SCHEMA_FILE.pathname}`);
}
