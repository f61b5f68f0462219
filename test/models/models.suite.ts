/**
 * GET /v1/models and /v1/models/{id}: only active models are listed or found; a disabled model answers
 * 404 everywhere on the data plane, and comes back when re-enabled.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../support/databases.js';
import {
  addChannel,
  addModel,
  type GatewayUnderTest,
  openaiClient,
  postRaw,
  startGateway,
} from '../support/gateway.js';

/** Registers this suite in the calling test file (one test process hosts several suites). */
export function modelsSuite(): void {
  describe.each(ENGINES)('/v1/models (%s)', (engine) => {
    let gw: GatewayUnderTest;
    let openai: OpenAI;
    let toggledId: string;

    beforeAll(async () => {
      gw = await startGateway(engine);
      openai = openaiClient(gw);
      const channel = await addChannel(gw, { name: 'models-mock', type: 'mock' });
      const route = [{ channelId: channel.id, upstreamModel: 'mock-gpt' }];
      await addModel(gw, { name: 'alpha-model', routes: route });
      await addModel(gw, { name: 'beta-model', routes: route });
      await addModel(gw, { name: 'vendor/gamma-model', routes: route });
      await addModel(gw, { name: 'off-model', enabled: false, routes: route });
      toggledId = (await addModel(gw, { name: 'toggled-model', routes: route })).id;
    });
    afterAll(async () => gw?.t.close());

    const ids = async () => {
      const list = await openai.models.list();
      return list.data.map((m) => m.id);
    };

    it('lists the active models, sorted, in the OpenAI list shape', async () => {
      const res = await gw.call<{
        object: string;
        data: Array<{ id: string; object: string; created: number; owned_by: string }>;
      }>('GET', '/v1/models', { token: gw.key });
      expect(res.status).toBe(200);
      expect(res.body.object).toBe('list');
      expect(res.body.data.map((m) => m.id)).toEqual([
        'alpha-model',
        'beta-model',
        'toggled-model',
        'vendor/gamma-model',
      ]);
      for (const model of res.body.data) {
        expect(model.object).toBe('model');
        expect(Number.isInteger(model.created)).toBe(true);
        expect(typeof model.owned_by).toBe('string');
      }
      expect(await ids()).not.toContain('off-model');
    });

    it('retrieves one active model (also a name with a slash)', async () => {
      expect(await openai.models.retrieve('alpha-model')).toMatchObject({ id: 'alpha-model', object: 'model' });
      const res = await gw.call<{ id: string }>('GET', '/v1/models/vendor/gamma-model', { token: gw.key });
      expect(res.status).toBe(200);
      expect(res.body.id).toBe('vendor/gamma-model');
    });

    it('a disabled model is 404 on /v1/models/{id} and for chat, and absent from the list', async () => {
      const error = await openai.models.retrieve('off-model').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect(error).toMatchObject({ status: 404, code: 'model_not_found' });
      const chat = await openai.chat.completions
        .create({ model: 'off-model', messages: [{ role: 'user', content: 'Hi' }] })
        .catch((e: unknown) => e);
      expect(chat).toBeInstanceOf(OpenAI.NotFoundError);
      const unknown = await openai.models.retrieve('never-existed').catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    });

    it('disabling a model at run time removes it at once; re-enabling brings it back', async () => {
      const hello = { model: 'toggled-model', messages: [{ role: 'user' as const, content: 'Hi' }] };
      expect((await openai.chat.completions.create(hello)).choices[0]?.message.role).toBe('assistant');
      const off = await gw.call('PATCH', `/api/admin/models/${toggledId}`, {
        token: gw.admin.token,
        body: { enabled: false },
      });
      expect(off.status).toBe(200);
      expect(await ids()).not.toContain('toggled-model');
      expect(await openai.models.retrieve('toggled-model').catch((e: unknown) => e)).toBeInstanceOf(
        OpenAI.NotFoundError,
      );
      const res = await postRaw(`${gw.url}/v1/chat/completions`, hello, { authorization: `Bearer ${gw.key}` });
      expect(res.status).toBe(404);
      expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'model_not_found', param: 'model' } });

      const on = await gw.call('PATCH', `/api/admin/models/${toggledId}`, {
        token: gw.admin.token,
        body: { enabled: true },
      });
      expect(on.status).toBe(200);
      expect(await ids()).toContain('toggled-model');
      expect((await openai.chat.completions.create(hello)).choices[0]?.message.role).toBe('assistant');
    });

    it('needs an AI Hub key', async () => {
      const res = await gw.call('GET', '/v1/models');
      expect(res.status).toBe(401);
      const bad = await openaiClient(gw, 'sk-wrong-wrong-wrong-wrong-wrong-wrong-wrong-00')
        .models.list()
        .catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(OpenAI.AuthenticationError);
    });
  });
}
