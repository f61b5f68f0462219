/**
 * GET /api/admin/providers: the providers' declarations, in registry order, for the console's channel form
 * (and in /openapi.json so its types are generated).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_IDS, PROVIDERS } from '../../src/providers/registry.js';
import { client, register } from '../support/app.js';
import { type GatewayUnderTest, startGateway, uniqueEmail } from '../support/gateway.js';

interface Description {
  id: string;
  label: string;
  key: string;
  baseUrl: { mode: string; default: string | null; example?: string };
  options: Array<{ key: string; kind: string; choices?: string[]; default?: string }>;
  endpoints: string[];
  passThrough: string[];
}

describe('GET /api/admin/providers', () => {
  let gw: GatewayUnderTest;
  beforeAll(async () => {
    gw = await startGateway('sqlite');
  });
  afterAll(async () => gw?.t.close());

  it('describes every provider to an admin, in registry order, as the adapters declare it', async () => {
    const res = await gw.call<{ data: Description[] }>('GET', '/api/admin/providers', { token: gw.admin.token });
    expect(res.status).toBe(200);
    expect(res.body.data.map((p) => p.id)).toEqual(PROVIDER_IDS);
    for (const description of res.body.data) {
      const adapter = PROVIDERS[description.id as keyof typeof PROVIDERS];
      expect(description).toEqual({
        id: adapter.id,
        label: adapter.label,
        key: adapter.key,
        baseUrl: adapter.baseUrl,
        options: adapter.options,
        endpoints: adapter.endpoints,
        passThrough: adapter.passThrough,
      });
      // Only the declaration: no transforms, no prompt overhead.
      expect(Object.keys(description).sort()).toEqual(
        ['baseUrl', 'endpoints', 'id', 'key', 'label', 'options', 'passThrough'].sort(),
      );
    }
    const keyless = res.body.data.filter((p) => p.key !== 'required').map((p) => p.baseUrl.mode);
    expect(keyless.length).toBeGreaterThan(0);
  });

  it('refuses a user (403) and a caller without a token (401)', async () => {
    const user = await register(client(gw.url), uniqueEmail('user'));
    expect((await gw.call('GET', '/api/admin/providers', { token: user.token })).status).toBe(403);
    expect((await gw.call('GET', '/api/admin/providers')).status).toBe(401);
  });

  it('is in /openapi.json with its response schema', async () => {
    const res = await gw.call<{ paths: Record<string, { get?: unknown }>; components: { schemas: object } }>(
      'GET',
      '/openapi.json',
    );
    expect(res.body.paths['/api/admin/providers']?.get).toBeDefined();
    expect(Object.keys(res.body.components.schemas)).toContain('ProviderDescription');
  });
});
