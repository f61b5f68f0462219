/**
 * The configuration file's channel tags and model routes to a tag: applied, idempotent, served, refused when a
 * route names both a channel and a tag (or neither).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDeclarativeConfig, readDeclarativeConfig } from '../../src/config/declarative.js';
import { ENGINES } from '../support/databases.js';
import type { FakeUpstream } from '../support/fakes/http.js';
import { start as startOpenAi } from '../support/fakes/openai.js';
import { type GatewayUnderTest, postRaw, startGateway } from '../support/gateway.js';

describe.each(ENGINES)('configuration file: tags and routes to a tag (%s)', (engine) => {
  let gw: GatewayUnderTest;
  let fake: FakeUpstream;
  let dir: string;
  beforeAll(async () => {
    gw = await startGateway(engine);
    fake = await startOpenAi({ flavor: 'openai' });
    dir = mkdtempSync(join(tmpdir(), 'aihub-tags-'));
  });
  afterAll(async () => {
    await fake?.close();
    await gw?.t.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const apply = (text: string) => {
    const file = join(dir, 'aihub.yaml');
    writeFileSync(file, text);
    return applyDeclarativeConfig(readDeclarativeConfig(file, { URL: fake.baseUrl, KEY: fake.key }), {
      channels: gw.t.services.channels,
      models: gw.t.services.models,
    });
  };

  it('tags channels, routes a model to a tag, and applies twice to the same state', async () => {
    const text = `
channels:
  - { name: eu-1, type: openai, baseUrl: "\${URL}", keys: ["\${KEY}"], tags: [eu] }
  - { name: eu-2, type: openai, baseUrl: "\${URL}", keys: ["\${KEY}"], tags: [eu, cheap] }
models:
  - name: gpt-eu
    routes: [{ tag: eu, upstreamModel: gpt-4o, priority: 2 }]
`;
    await apply(text);
    await apply(text);
    const models = await gw.call<{ data: Array<{ name: string; tagRoutes: unknown[]; routes: unknown[] }> }>(
      'GET',
      '/api/admin/models',
      { token: gw.admin.token },
    );
    const model = models.body.data.find((m) => m.name === 'gpt-eu');
    expect(model?.routes).toEqual([]);
    expect(model?.tagRoutes).toEqual([
      { id: expect.any(String), tag: 'eu', upstreamModel: 'gpt-4o', priority: 2, weight: 1 },
    ]);
    const targets = gw.t.services.catalog.getModel('gpt-eu')?.routes.map((r) => r.channel.name);
    expect(targets?.sort()).toEqual(['eu-1', 'eu-2']);
    const res = await postRaw(
      `${gw.url}/v1/chat/completions`,
      { model: 'gpt-eu', messages: [{ role: 'user', content: 'Hi' }] },
      { authorization: `Bearer ${gw.key}` },
    );
    expect(res.status).toBe(200);
  });

  it('refuses a route with both a channel and a tag, or neither', async () => {
    await expect(apply('models:\n  - name: x\n    routes: [{ channel: eu-1, tag: eu }]\n')).rejects.toThrow(
      /either a channel or a tag/,
    );
    await expect(apply('models:\n  - name: x\n    routes: [{ upstreamModel: a }]\n')).rejects.toThrow(
      /either a channel or a tag/,
    );
  });
});
