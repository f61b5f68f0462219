import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PERMISSIONS, type Permission } from '../../src/modules/access/permissions.js';
import { type ErrorBody, uniqueEmail } from '../support/accounts.js';
import { type Call, client, register, type SignedIn, startTestApp, type TestApp } from '../support/app.js';

interface Operation {
  'x-permission'?: unknown;
}
type OpenApi = { paths: Record<string, Record<string, Operation>> };

const KNOWN = new Set<unknown>(['public', 'signed_in', ...ALL_PERMISSIONS]);

function declared(op: Operation): Permission[] | 'public' | 'signed_in' | undefined {
  const value = op['x-permission'];
  if (value === 'public' || value === 'signed_in') return value;
  if (typeof value === 'string') return [value as Permission];
  if (Array.isArray(value)) return value as Permission[];
  return undefined;
}

/** A concrete URL for an OpenAPI path (ids that exist nowhere: the permission check comes first). */
function concrete(path: string): string {
  return path.replace(/\{scope\}/g, 'team').replace(/\{[^}]+\}/g, 'xyz_0000');
}

describe('every /api route declares a permission, and enforces it', () => {
  let t: TestApp;
  let call: Call;
  let developer: SignedIn;
  let paths: OpenApi['paths'];
  beforeAll(async () => {
    t = await startTestApp();
    call = client(t.url);
    await register(call, uniqueEmail('first-admin'));
    developer = await register(call, uniqueEmail('dev'));
    paths = (await call<OpenApi>('GET', '/openapi.json')).body.paths;
  });
  afterAll(async () => t?.close());

  it('lists a known permission on every /api operation in /openapi.json', () => {
    const operations = Object.entries(paths)
      .filter(([path]) => path.startsWith('/api/'))
      .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
    expect(operations.length).toBeGreaterThan(50);
    const missing = operations.filter(({ op }) => {
      const need = declared(op);
      if (need === undefined) return true;
      return typeof need === 'string' ? false : need.length === 0 || need.some((p) => !KNOWN.has(p));
    });
    expect(missing.map(({ method, path }) => `${method.toUpperCase()} ${path}`)).toEqual([]);
  });

  it('refuses a developer every route whose permissions a developer lacks, naming the permission', async () => {
    const me = await call<{ permissions: string[] }>('GET', '/api/me', { token: developer.token });
    const held = new Set(me.body.permissions);
    expect(held.has('keys.own')).toBe(true);
    let checked = 0;
    for (const [path, methods] of Object.entries(paths)) {
      if (!path.startsWith('/api/')) continue;
      for (const [method, op] of Object.entries(methods)) {
        const need = declared(op);
        if (need === undefined || need === 'public' || need === 'signed_in') continue;
        if (need.some((p) => held.has(p))) continue;
        const res = await call<ErrorBody>(method.toUpperCase(), concrete(path), {
          token: developer.token,
          ...(method === 'get' || method === 'delete' ? {} : { body: {} }),
        });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.body.error.code).toBe('forbidden');
        expect(res.body.error.message, `${method} ${path}`).toContain(need[0]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('refuses every non-public route without a token with 401', async () => {
    for (const [path, methods] of Object.entries(paths)) {
      if (!path.startsWith('/api/')) continue;
      for (const [method, op] of Object.entries(methods)) {
        if (declared(op) === 'public') continue;
        const res = await call<ErrorBody>(method.toUpperCase(), concrete(path), {
          ...(method === 'get' || method === 'delete' ? {} : { body: {} }),
        });
        expect(res.status, `${method} ${path}`).toBe(401);
      }
    }
  });
});
