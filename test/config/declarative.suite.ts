/**
 * The declarative config file (src/config/declarative.ts): a YAML file with `${VAR}` interpolation,
 * applied to a running instance's services twice gives the same channels and models, and the data plane
 * serves them at once. Bad files fail with an error naming the file and what is wrong.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDeclarativeConfig, readDeclarativeConfig } from '../../src/config/declarative.js';
import { ENGINES } from '../support/databases.js';
import type { FakeUpstream } from '../support/fakes/http.js';
import { openAiAnswers, start as startOpenAi } from '../support/fakes/openai.js';
import { type GatewayUnderTest, openaiClient, startGateway } from '../support/gateway.js';

const CONFIG = `# AI Hub channels and models
channels:
  - name: yaml-openai
    type: openai
    baseUrl: \${FAKE_OPENAI_URL}
    keys: ["\${FAKE_OPENAI_KEY}"]
    priority: 5
    groups: [default, vip]
    headers: { OpenAI-Organization: org-yaml }
    timeouts: { firstByteMs: 5000 }
  - name: yaml-mock
    type: mock
    provider: { chunkDelayMs: "0" }
models:
  - name: yaml-gpt
    description: \${MODEL_DESCRIPTION:-GPT through the YAML file}
    price: { input: 2.5, output: 10, cachedInput: 1.25 }
    batchDiscountPercent: 50
    routes:
      - channel: yaml-openai
        upstreamModel: gpt-4o
        priority: 10
      - channel: yaml-mock
        upstreamModel: mock-gpt
  - name: yaml-mock-only
    routes: [{ channel: yaml-mock }]
`;

interface ChannelView {
  id: string;
  name: string;
  type: string;
  baseUrl: string | null;
  status: string;
  priority: number;
  weight: number;
  groups: string[];
  options: unknown;
  keys: Array<{ hint: string; status: string }>;
}

interface ModelView {
  id: string;
  name: string;
  description: string | null;
  status: string;
  inputPrice: number;
  outputPrice: number;
  cachedInputPrice: number | null;
  batchDiscountPercent: number;
  routes: Array<{ channelId: string; upstreamModel: string | null; priority: number; weight: number }>;
}

/** Registers this suite in the calling test file (one test process hosts several suites). */
export function declarativeSuite(): void {
  describe.each(ENGINES)('declarative config file (%s)', (engine) => {
    let gw: GatewayUnderTest;
    let fake: FakeUpstream;
    let dir: string;
    let env: Record<string, string>;
    const write = (name: string, text: string) => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const apply = (file: string, vars: Record<string, string | undefined> = env) =>
      applyDeclarativeConfig(readDeclarativeConfig(file, vars), {
        channels: gw.t.services.channels,
        models: gw.t.services.models,
      });

    /** The state the file controls, without ids and timestamps that a re-apply may renew. */
    async function snapshot() {
      const channels = (await gw.call<{ data: ChannelView[] }>('GET', '/api/admin/channels', { token: gw.admin.token }))
        .body.data;
      const models = (await gw.call<{ data: ModelView[] }>('GET', '/api/admin/models', { token: gw.admin.token })).body
        .data;
      const nameOf = new Map(channels.map((c) => [c.id, c.name]));
      return {
        channels: channels.map(({ name, type, baseUrl, status, priority, weight, groups, options, keys }) => ({
          name,
          type,
          baseUrl,
          status,
          priority,
          weight,
          groups,
          options,
          keys: keys.map(({ hint, status: keyStatus }) => ({ hint, status: keyStatus })),
        })),
        models: models.map(
          ({ name, description, status, inputPrice, outputPrice, cachedInputPrice, batchDiscountPercent, routes }) => ({
            name,
            description,
            status,
            inputPrice,
            outputPrice,
            cachedInputPrice,
            batchDiscountPercent,
            routes: routes.map((r) => ({
              channel: nameOf.get(r.channelId),
              upstreamModel: r.upstreamModel,
              priority: r.priority,
              weight: r.weight,
            })),
          }),
        ),
        ids: { channels: channels.map((c) => c.id).sort(), models: models.map((m) => m.id).sort() },
      };
    }

    beforeAll(async () => {
      gw = await startGateway(engine);
      fake = await startOpenAi({ flavor: 'openai' });
      dir = mkdtempSync(join(tmpdir(), 'aihub-yaml-'));
      env = { FAKE_OPENAI_URL: fake.baseUrl, FAKE_OPENAI_KEY: fake.key };
    });
    afterAll(async () => {
      await fake?.close();
      await gw?.t.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('applied twice: the same channels and models (created, then updated in place)', async () => {
      const file = write('aihub.yaml', CONFIG);
      const first = await apply(file);
      expect(first).toEqual({ channelsCreated: 2, channelsUpdated: 0, modelsCreated: 2, modelsUpdated: 0 });
      const before = await snapshot();
      const second = await apply(file);
      expect(second).toEqual({ channelsCreated: 0, channelsUpdated: 2, modelsCreated: 0, modelsUpdated: 2 });
      const after = await snapshot();
      expect(after).toEqual(before);

      expect(before.channels).toContainEqual({
        name: 'yaml-openai',
        type: 'openai',
        baseUrl: fake.baseUrl,
        status: 'active',
        priority: 5,
        weight: 1,
        groups: ['default', 'vip'],
        options: { headers: { 'OpenAI-Organization': 'org-yaml' }, timeouts: { firstByteMs: 5000 } },
        keys: [{ hint: `${fake.key.slice(0, 3)}…${fake.key.slice(-4)}`, status: 'active' }],
      });
      expect(before.models).toContainEqual({
        name: 'yaml-gpt',
        description: 'GPT through the YAML file',
        status: 'active',
        inputPrice: 2_500_000,
        outputPrice: 10_000_000,
        cachedInputPrice: 1_250_000,
        batchDiscountPercent: 50,
        routes: [
          { channel: 'yaml-openai', upstreamModel: 'gpt-4o', priority: 10, weight: 1 },
          { channel: 'yaml-mock', upstreamModel: 'mock-gpt', priority: 0, weight: 1 },
        ],
      });
    });

    it('the data plane serves the file at once, with the interpolated key and headers', async () => {
      fake.setScenario('text');
      const completion = await openaiClient(gw).chat.completions.create({
        model: 'yaml-gpt',
        messages: [{ role: 'user', content: 'Hi' }],
      });
      expect(completion.choices[0]?.message.content).toBe(openAiAnswers('openai').text.content);
      expect(fake.last().headers.authorization).toBe(`Bearer ${fake.key}`);
      expect(fake.last().headers['openai-organization']).toBe('org-yaml');
    });

    it("the environment value wins over a placeholder's :- default", async () => {
      const file = write('described.yaml', CONFIG);
      await apply(file, { ...env, MODEL_DESCRIPTION: 'From the environment' });
      const models = (await gw.call<{ data: ModelView[] }>('GET', '/api/admin/models', { token: gw.admin.token })).body
        .data;
      expect(models.find((m) => m.name === 'yaml-gpt')?.description).toBe('From the environment');
    });

    it('a missing environment variable: an error naming the variable and the file, nothing applied', async () => {
      const file = write('missing-var.yaml', CONFIG.replaceAll('yaml-', 'other-'));
      expect(() => readDeclarativeConfig(file, { FAKE_OPENAI_URL: fake.baseUrl })).toThrow(/FAKE_OPENAI_KEY/);
      expect(() => readDeclarativeConfig(file, { FAKE_OPENAI_URL: fake.baseUrl })).toThrow(file);
      expect(await gw.t.services.channels.findByName('other-openai')).toBeUndefined();
    });

    it('a file that does not match the schema: an error naming the file and the offending path', async () => {
      const file = write('bad-schema.yaml', 'channels:\n  - name: broken\n    type: openai\n    colour: blue\n');
      expect(() => readDeclarativeConfig(file, env)).toThrow(file);
      expect(() => readDeclarativeConfig(file, env)).toThrow(/\/channels\/0/);
      const wrongType = write('bad-type.yaml', 'models:\n  - name: m\n    routes: not-a-list\n');
      expect(() => readDeclarativeConfig(wrongType, env)).toThrow(/\/models\/0\/routes/);
    });

    it('a route naming an unknown channel: an error naming the model and the channel', async () => {
      const file = write('unknown-channel.yaml', 'models:\n  - name: orphan\n    routes: [{ channel: nowhere }]\n');
      await expect(apply(file)).rejects.toThrow(/orphan.*nowhere/);
    });

    // Regression: a YAML syntax error used to surface as the yaml library's own error, naming the line
    // but not the file.
    it('a YAML syntax error: an error naming the file', async () => {
      const file = write('not-yaml.yaml', 'channels:\n  - name: a\n   type: [unclosed\n');
      expect(() => readDeclarativeConfig(file, env)).toThrow(file);
    });
  });
}
