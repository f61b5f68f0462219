/**
 * What the Responses API keeps between requests, on OpenAI pass-through channels: usage read from the
 * terminal event (completed, incomplete, failed), follow-ups sticky to the channel and provider key that hold
 * the conversation upstream, and conversations moved between a translated channel and OpenAI.
 */
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../../support/databases.js';
import { start as startAnthropic } from '../../support/fakes/anthropic.js';
import { type FakeUpstream, fixtureEvents } from '../../support/fakes/http.js';
import { start as startOpenAi } from '../../support/fakes/openai.js';
import {
  addChannel,
  addModel,
  createKey,
  type GatewayUnderTest,
  logOf,
  MASTER_KEY,
  openaiClient,
  PRICES,
  postRaw,
  startGateway,
} from '../../support/gateway.js';

describe.each(ENGINES)('Responses API state (%s)', (engine) => {
  let gw: GatewayUnderTest;
  let openai: OpenAI;
  let left: FakeUpstream;
  let right: FakeUpstream;
  let claude: FakeUpstream;
  let leftChannel: string;

  beforeAll(async () => {
    gw = await startGateway(engine);
    // Background responses run as jobs.
    await gw.t.services.jobs.start({ workers: true });
    openai = openaiClient(gw);
    left = await startOpenAi({ flavor: 'openai', key: 'sk-left-1111111111111111' });
    right = await startOpenAi({ flavor: 'openai', key: 'sk-right-222222222222222' });
    claude = await startAnthropic();
    const a = await addChannel(gw, { name: 'left', type: 'openai', baseUrl: left.baseUrl, keys: [left.key] });
    const b = await addChannel(gw, { name: 'right', type: 'openai', baseUrl: right.baseUrl, keys: [right.key] });
    const c = await addChannel(gw, { name: 'claude', type: 'anthropic', baseUrl: claude.baseUrl, keys: [claude.key] });
    leftChannel = a.id;
    await addModel(gw, {
      name: 'two-openai',
      ...PRICES,
      routes: [
        { channelId: a.id, upstreamModel: 'gpt-4.1' },
        { channelId: b.id, upstreamModel: 'gpt-4.1' },
      ],
    });
    await addModel(gw, { name: 'left-only', ...PRICES, routes: [{ channelId: a.id, upstreamModel: 'gpt-4.1' }] });
    await addModel(gw, { name: 'claude', ...PRICES, routes: [{ channelId: c.id, upstreamModel: 'claude-sonnet-4' }] });
    await addModel(gw, {
      name: 'openai-then-claude',
      ...PRICES,
      routes: [
        { channelId: b.id, upstreamModel: 'gpt-4.1', priority: 10 },
        { channelId: c.id, upstreamModel: 'claude-sonnet-4', priority: 0 },
      ],
    });
  });
  afterAll(async () => {
    for (const fake of [left, right, claude]) await fake?.close();
    await gw?.t.close();
  });

  it('reads usage from a response.incomplete terminal event and logs it as served', async () => {
    left.setScenario({ name: 'text', replay: fixtureEvents('openai', 'responses-stream-incomplete.sse') });
    const res = await postRaw(
      `${gw.url}/v1/responses`,
      { model: 'left-only', input: 'tell a story', max_output_tokens: 16, stream: true },
      { authorization: `Bearer ${gw.key}` },
    );
    left.setScenario('text');
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('[DONE]');
    expect(res.events.at(-1)?.event).toBe('response.incomplete');
    const log = await logOf(gw.t, res.requestId);
    expect(log).toMatchObject({ endpoint: 'responses', status: 200, promptTokens: 36, completionTokens: 16 });
  });

  it('logs a response.failed stream as an upstream error, with its usage', async () => {
    const failed = fixtureEvents('openai', 'responses-stream-incomplete.sse').map((event) =>
      event.startsWith('event: response.incomplete')
        ? event
            .replaceAll('response.incomplete', 'response.failed')
            .replace('"status":"incomplete"', '"status":"failed"')
            .replace('"error":null', '"error":{"code":"server_error","message":"The model failed."}')
        : event,
    );
    left.setScenario({ name: 'text', replay: failed });
    const res = await postRaw(
      `${gw.url}/v1/responses`,
      { model: 'left-only', input: 'tell a story', stream: true },
      { authorization: `Bearer ${gw.key}` },
    );
    left.setScenario('text');
    expect(res.events.at(-1)?.event).toBe('response.failed');
    const log = await logOf(gw.t, res.requestId);
    expect(log).toMatchObject({ status: 502, errorCode: 'upstream_error', completionTokens: 16 });
  });

  it('sends every follow-up to the channel and key holding the conversation', async () => {
    const first = await openai.responses.create({ model: 'two-openai', input: 'remember 42' });
    const holder = left.requests.some((r) => (r.body as { input?: unknown })?.input === 'remember 42') ? left : right;
    const other = holder === left ? right : left;
    const before = other.requests.length;
    let previous = first.id;
    for (let turn = 0; turn < 4; turn++) {
      const next = await openai.responses.create({
        model: 'two-openai',
        input: `turn ${turn}`,
        previous_response_id: previous,
      });
      expect(next.previous_response_id).toBe(previous);
      expect(holder.last().body).toMatchObject({ previous_response_id: previous, input: `turn ${turn}` });
      previous = next.id;
    }
    expect(other.requests.length).toBe(before);
  });

  it('answers previous_response_not_found when the channel holding it no longer serves the model', async () => {
    const first = await openai.responses.create({ model: 'left-only', input: 'hello' });
    const off = await gw.call('PATCH', `/api/admin/channels/${leftChannel}`, {
      token: MASTER_KEY,
      body: { enabled: false },
    });
    expect(off.status).toBe(200);
    try {
      await expect(
        openai.responses.create({ model: 'left-only', input: 'again', previous_response_id: first.id }),
      ).rejects.toMatchObject({ status: 400, code: 'previous_response_not_found', param: 'previous_response_id' });
    } finally {
      await gw.call('PATCH', `/api/admin/channels/${leftChannel}`, { token: MASTER_KEY, body: { enabled: true } });
    }
    await expect(
      openai.responses.create({ model: 'left-only', input: 'x', previous_response_id: 'resp_unknown' }),
    ).rejects.toMatchObject({ status: 400, code: 'previous_response_not_found' });
  });

  it('fails over from an OpenAI channel that answers 500 to a translated one, streamed and not', async () => {
    right.setScenario('server_error');
    claude.setScenario('text');
    try {
      const { data, response } = await openai.responses
        .create({ model: 'openai-then-claude', input: 'hello' })
        .withResponse();
      expect(data.status).toBe('completed');
      expect(claude.last().path).toBe('/v1/messages');
      const log = await logOf(gw.t, response.headers.get('x-request-id'));
      expect(log.status).toBe(200);
      expect(log.attempts).toHaveLength(1);
      const stream = openai.responses.stream({ model: 'openai-then-claude', input: 'hello' });
      const types: string[] = [];
      for await (const event of stream) types.push(event.type);
      expect(types[0]).toBe('response.created');
      expect(types.at(-1)).toBe('response.completed');
    } finally {
      right.setScenario('text');
    }
  });

  it('runs a background response: queued at once, completed later, on a translated and an OpenAI channel', async () => {
    claude.setScenario({ name: 'text', firstByteDelayMs: 300 });
    try {
      for (const name of ['claude', 'left-only']) {
        const queued = await openai.responses.create({ model: name, input: 'take your time', background: true });
        expect(queued).toMatchObject({ status: 'queued', background: true });
        let done = await openai.responses.retrieve(queued.id);
        for (let i = 0; i < 100 && (done.status === 'queued' || done.status === 'in_progress'); i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          done = await openai.responses.retrieve(queued.id);
        }
        expect(done).toMatchObject({ id: queued.id, status: 'completed', background: true });
        expect(done.output_text.length).toBeGreaterThan(0);
        expect(done.usage?.output_tokens).toBeGreaterThan(0);
        // Run by a job, as the key that created it, with its usage row under the accepting request's id.
        const log = await logOf(gw.t, `req_${queued.id.slice(5)}`);
        expect(log).toMatchObject({ endpoint: 'responses', status: 200, keyId: gw.keyId, model: name });
        expect(log.costMicros).toBeGreaterThan(0);
      }
      const succeeded = async () => {
        const jobs = await gw.t.services.jobs.list({
          scope: null,
          type: 'responses.background',
          limit: 100,
          offset: 0,
        });
        return jobs.data.filter((j) => j.state === 'succeeded').length;
      };
      for (let i = 0; i < 100 && (await succeeded()) < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await succeeded()).toBeGreaterThanOrEqual(2);
      // The OpenAI upstream answered in the foreground: the hub runs the background.
      expect((left.last().body as Record<string, unknown>).background).toBeUndefined();
    } finally {
      claude.setScenario('text');
    }
  });

  it('stores a failed background run as failed, with the upstream error', async () => {
    claude.setScenario('bad_request');
    try {
      const queued = await openai.responses.create({ model: 'claude', input: 'fail please', background: true });
      expect(queued.status).toBe('queued');
      let done = await openai.responses.retrieve(queued.id);
      for (let i = 0; i < 100 && (done.status === 'queued' || done.status === 'in_progress'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        done = await openai.responses.retrieve(queued.id);
      }
      expect(done.status).toBe('failed');
      expect(done.error?.message).toContain('text content blocks must be non-empty');
    } finally {
      claude.setScenario('text');
    }
  });

  it('never runs a background response cancelled while queued, and fails one whose key was revoked', async () => {
    // No worker runs: the jobs wait in the queue.
    await gw.t.services.jobs.stop(1000);
    try {
      const before = claude.requests.length;
      const waiting = await openai.responses.create({ model: 'claude', input: 'never mind', background: true });
      const cancelled = await openai.responses.cancel(waiting.id);
      expect(cancelled).toMatchObject({ id: waiting.id, status: 'cancelled' });
      const other = await createKey(gw.call, gw.admin.token, 'revoked-before-run');
      const revokedClient = openaiClient(gw, other.secret);
      const orphan = await revokedClient.responses.create({ model: 'claude', input: 'too late', background: true });
      const revoke = await gw.call('DELETE', `/api/keys/${other.id}`, { token: gw.admin.token });
      expect(revoke.status).toBeLessThan(300);
      await gw.t.services.jobs.start({ workers: true });
      // (The revoked key cannot read it any more: the stored row is checked.)
      const stored = async () => {
        const row = await gw.t.database.handle.db
          .selectFrom('responses')
          .select('response')
          .where('id', '=', orphan.id)
          .executeTakeFirst();
        return row ? (JSON.parse(row.response) as { status: string }) : undefined;
      };
      for (let i = 0; i < 100 && (await stored())?.status !== 'failed'; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await stored()).toMatchObject({ status: 'failed', error: { code: 'invalid_api_key' } });
      expect((await openai.responses.retrieve(waiting.id)).status).toBe('cancelled');
      // Neither reached the upstream.
      expect(claude.requests.length).toBe(before);
    } finally {
      await gw.t.services.jobs.start({ workers: true }).catch(() => undefined);
    }
  });

  it('cancels a background response, aborting its upstream request', async () => {
    claude.setScenario({ name: 'text', firstByteDelayMs: 5_000 });
    try {
      const before = claude.requests.length;
      const queued = await openai.responses.create({ model: 'claude', input: 'slow', background: true });
      // Wait until the upstream has the request.
      for (let i = 0; i < 100 && claude.requests.length === before; i++) await new Promise((r) => setTimeout(r, 20));
      const cancelled = await openai.responses.cancel(queued.id);
      expect(cancelled).toMatchObject({ id: queued.id, status: 'cancelled' });
      await claude.last().finished;
      expect(claude.last().aborted).toBe(true);
      expect((await openai.responses.retrieve(queued.id)).status).toBe('cancelled');
      // A finished or foreground response is not cancelled.
      const foreground = await openai.responses.create({ model: 'left-only', input: 'now' });
      await expect(openai.responses.cancel(foreground.id)).rejects.toMatchObject({ status: 400 });
      await expect(openaiClient(gw, 'sk-nobody').responses.cancel(queued.id)).rejects.toMatchObject({ status: 401 });
    } finally {
      claude.setScenario('text');
    }
  });

  it('forgets responses past the retention setting, and purges them', async () => {
    const old = await openai.responses.create({ model: 'claude', input: 'long ago' });
    const fresh = await openai.responses.create({ model: 'claude', input: 'just now' });
    await gw.t.services.responses.drain();
    const db = gw.t.database.handle.db;
    await db
      .updateTable('responses')
      .set({ created_at: Date.now() - 3 * 86_400_000 })
      .where('id', '=', old.id)
      .execute();
    const set = await gw.call('PATCH', '/api/admin/settings', {
      token: MASTER_KEY,
      body: { responsesRetentionDays: 2 },
    });
    expect(set.status).toBe(200);
    try {
      await expect(openai.responses.retrieve(old.id)).rejects.toMatchObject({ status: 404 });
      await expect(
        openai.responses.create({ model: 'claude', input: 'go on', previous_response_id: old.id }),
      ).rejects.toMatchObject({ status: 400, code: 'previous_response_not_found' });
      expect(await gw.t.services.responses.purge()).toBeGreaterThanOrEqual(1);
      const left = await db.selectFrom('responses').select('id').where('id', 'in', [old.id, fresh.id]).execute();
      expect(left.map((r) => r.id)).toEqual([fresh.id]);
    } finally {
      await gw.call('PATCH', '/api/admin/settings', { token: MASTER_KEY, body: { responsesRetentionDays: 30 } });
    }
  });

  it('moves a conversation from a translated channel to OpenAI by sending it whole', async () => {
    claude.setScenario('text');
    const first = await openai.responses.create({ model: 'claude', input: 'my name is Ada' });
    const next = await openai.responses.create({
      model: 'left-only',
      input: 'what is my name?',
      previous_response_id: first.id,
    });
    expect(next.previous_response_id).toBe(first.id);
    const sent = left.last().body as { input: Array<Record<string, unknown>>; previous_response_id?: unknown };
    expect(sent.previous_response_id).toBeUndefined();
    expect(JSON.stringify(sent.input[0])).toContain('my name is Ada');
    expect(sent.input[1]).toMatchObject({ type: 'message', role: 'assistant' });
    expect(sent.input.at(-1)).toMatchObject({ role: 'user' });
    // And back: the Anthropic upstream gets the whole conversation, OpenAI's turn included.
    const back = await openai.responses.create({ model: 'claude', input: 'and again?', previous_response_id: next.id });
    expect(back.status).toBe('completed');
    const messages = JSON.stringify((claude.last().body as { messages: unknown }).messages);
    expect(messages).toContain('my name is Ada');
    expect(messages).toContain('what is my name?');
    expect(messages).toContain('and again?');
  });
});
