/**
 * Failover: a model served by two channels, the higher-priority one failing before any byte reached the
 * client (500, 429, connection reset, slow first byte). The client gets a normal answer from the other
 * channel; the request log names the serving channel and the failed attempt. A 400 is the client's fault
 * and is not retried elsewhere.
 */
import OpenAI from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../support/app.js';
import { ENGINES } from '../support/databases.js';
import type { FakeUpstream, ScenarioInput } from '../support/fakes/http.js';
import { openAiAnswers, start as startOpenAi } from '../support/fakes/openai.js';
import {
  addChannel,
  addModel,
  type GatewayUnderTest,
  logOf,
  MASTER_KEY,
  openaiClient,
  postRaw,
  startGateway,
} from '../support/gateway.js';
import { type ProviderType, providerCase } from '../support/providers.js';

const BACKUP_ANSWER = openAiAnswers('openai').text;

interface Failure {
  label: string;
  scenario: ScenarioInput;
  /** The status the failed attempt is logged with (the gateway's mapping of the upstream failure). */
  attemptStatus: number;
  /** The upstream's own HTTP status, logged next to it (null: no HTTP answer). */
  upstreamStatus: number | null;
}

const FAILURES: Failure[] = [
  { label: 'HTTP 500', scenario: 'server_error', attemptStatus: 502, upstreamStatus: 500 },
  { label: 'HTTP 429', scenario: 'rate_limit', attemptStatus: 429, upstreamStatus: 429 },
  {
    label: 'a connection reset before the headers',
    scenario: 'reset_before_headers',
    attemptStatus: 502,
    upstreamStatus: null,
  },
  {
    label: 'no first byte within firstByteMs',
    scenario: { name: 'text', firstByteDelayMs: 1_500 },
    attemptStatus: 504,
    upstreamStatus: null,
  },
];

const PRIMARY_TYPES: ProviderType[] = ['openai', 'anthropic', 'gemini'];

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

/** Registers this suite in the calling test file (one test process hosts several suites). */
export function failoverSuite(): void {
  describe.each(ENGINES)('failover (%s)', (engine) => {
    // Key cooldowns and breaker windows follow this clock; each test moves it past them.
    const clock = new ManualClock();
    let gw: GatewayUnderTest;
    let openai: OpenAI;
    const primaries = new Map<ProviderType, { fake: FakeUpstream; channelId: string }>();
    let backup: FakeUpstream;
    let backupId: string;

    beforeAll(async () => {
      gw = await startGateway(engine, { clock });
      openai = openaiClient(gw);
      backup = (await startOpenAi({ flavor: 'openai' })) as FakeUpstream;
      backupId = (
        await addChannel(gw, {
          name: 'backup',
          type: 'openai',
          baseUrl: backup.baseUrl,
          keys: [backup.key],
          priority: 0,
        })
      ).id;
      for (const type of PRIMARY_TYPES) {
        const c = providerCase(type);
        const fake = (await c.start()) as FakeUpstream;
        const channel = await addChannel(gw, {
          ...c.channel(fake, `primary-${type}`),
          priority: 10,
          options: { timeouts: { firstByteMs: 300 } },
        });
        primaries.set(type, { fake, channelId: channel.id });
        if (type === 'openai')
          await addModel(gw, { name: 'fo-solo', routes: [{ channelId: channel.id, upstreamModel: c.chatModel }] });
        await addModel(gw, {
          name: `fo-${type}`,
          routes: [
            { channelId: channel.id, upstreamModel: c.chatModel, priority: 10 },
            { channelId: backupId, upstreamModel: 'gpt-4o', priority: 0 },
          ],
        });
      }
    });
    afterEach(() => {
      clock.advance(61_000);
      for (const { channelId } of primaries.values()) gw.t.services.health.resetChannel(channelId);
      gw.t.services.health.resetChannel(backupId);
    });
    afterAll(async () => {
      for (const { fake } of primaries.values()) await fake.close();
      await backup?.close();
      await gw?.t.close();
    });

    describe.each(PRIMARY_TYPES)('primary channel %s, backup openai', (type) => {
      const request = {
        model: `fo-${type}`,
        messages: [{ role: 'user' as const, content: 'What is the weather in San Francisco?' }],
      };

      // A slow first byte is the same for every provider (undici's header timer); checked on one of them.
      const failures = type === 'openai' ? FAILURES : FAILURES.filter((f) => typeof f.scenario === 'string');
      describe.each(failures)('primary fails with $label', (failure) => {
        // undici checks header timeouts on a ~0.5 s tick: the slow-first-byte case runs once (non-stream).
        const modes = typeof failure.scenario === 'string' ? [false, true] : [false];
        it.each(modes)(
          'stream=%s: the backup answers; the log shows it and one failed attempt on the primary',
          async (stream) => {
            const primary = primaries.get(type) as { fake: FakeUpstream; channelId: string };
            primary.fake.setScenario(failure.scenario);
            backup.setScenario('text');
            const before = { primary: primary.fake.requests.length, backup: backup.requests.length };

            let content: string | null | undefined;
            let requestId: string | null;
            if (stream) {
              const { data, request_id } = await openai.chat.completions
                .create({ ...request, stream: true })
                .withResponse();
              content = await collect(data);
              requestId = request_id;
            } else {
              const { data, request_id } = await openai.chat.completions.create(request).withResponse();
              content = data.choices[0]?.message.content;
              requestId = request_id;
            }
            expect(content).toBe(BACKUP_ANSWER.content);
            expect(primary.fake.requests.length - before.primary).toBe(1);
            expect(backup.requests.length - before.backup).toBe(1);

            const row = await logOf(gw.t, requestId);
            expect(row).toMatchObject({
              status: 200,
              errorCode: null,
              channelId: backupId,
              upstreamModel: 'gpt-4o',
              promptTokens: BACKUP_ANSWER.usage.prompt,
              completionTokens: BACKUP_ANSWER.usage.completion,
            });
            expect(row.attempts).toEqual([
              {
                channelId: primary.channelId,
                status: failure.attemptStatus,
                upstreamStatus: failure.upstreamStatus,
                error: expect.any(String),
                ms: expect.any(Number),
              },
            ]);
            expect(row.attempts[0]?.error).not.toContain(primary.fake.key);
          },
        );
      });

      it.each([false, true])(
        'stream=%s: a 400 from the primary is passed on and not retried on the backup',
        async (stream) => {
          const primary = primaries.get(type) as { fake: FakeUpstream; channelId: string };
          primary.fake.setScenario('bad_request');
          const before = { primary: primary.fake.requests.length, backup: backup.requests.length };
          let error: unknown;
          try {
            if (stream) await collect(await openai.chat.completions.create({ ...request, stream: true }));
            else await openai.chat.completions.create(request);
          } catch (caught) {
            error = caught;
          }
          expect(error).toBeInstanceOf(OpenAI.BadRequestError);
          expect(error).toMatchObject({ status: 400, code: 'bad_request' });
          expect(primary.fake.requests.length - before.primary).toBe(1);
          expect(backup.requests.length - before.backup).toBe(0);
          await gw.t.services.recorder.flush();
          const [row] = await gw.t.services.logs.list({ orgId: 'org_default', limit: 1, model: `fo-${type}` });
          expect(row).toMatchObject({ status: 400, channelId: primary.channelId });
          expect(row?.attempts).toEqual([
            expect.objectContaining({ channelId: primary.channelId, status: 400, upstreamStatus: 400 }),
          ]);
          primary.fake.setScenario('text');
        },
      );
    });

    // Regression: an exception of a translator while building the upstream request (here Gemini's,
    // decoding a data URL with broken percent-encoding) was mapped as a transport failure: 502 "Could not
    // reach upstream …", counted against the channel's breaker, and retried on the backup.
    it('a request the translator throws on → 400 for the client, nothing sent, not retried, the channel not blamed', async () => {
      const primary = primaries.get('gemini') as { fake: FakeUpstream; channelId: string };
      const before = { primary: primary.fake.requests.length, backup: backup.requests.length };
      const body = {
        model: 'fo-gemini',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:text/plain,%E0%A4%A' } }] }],
      };
      for (let i = 0; i < 6; i++) {
        for (const stream of [false, true]) {
          const res = await postRaw(
            `${gw.url}/v1/chat/completions`,
            { ...body, stream },
            { authorization: `Bearer ${gw.key}` },
          );
          expect(res.status).toBe(400);
          expect(JSON.parse(res.text)).toMatchObject({
            error: { type: 'invalid_request_error', code: 'bad_request', message: expect.stringContaining('URI') },
          });
        }
      }
      expect(primary.fake.requests.length).toBe(before.primary);
      expect(backup.requests.length).toBe(before.backup);
      const channel = await gw.call<{ health: { status: string; lastError: string | null } }>(
        'GET',
        `/api/admin/channels/${primary.channelId}`,
        { token: MASTER_KEY },
      );
      expect(channel.body.health.lastError).toBeNull();
      expect(channel.body.health.status).not.toBe('down');
      const [row] = await (async () => {
        await gw.t.services.recorder.flush();
        return gw.t.services.logs.list({ orgId: 'org_default', limit: 1, model: 'fo-gemini' });
      })();
      expect(row).toMatchObject({ status: 400, errorCode: 'bad_request' });
    });

    // Regression: every failure used to count against the channel's circuit breaker, also a 400 that is
    // the client's fault: five bad requests in a minute opened the breaker, and three failed trials after
    // the cooldown auto-disabled the channel ("auto: failing persistently: …") for every client.
    it('client errors (an upstream 400) do not count against the channel: no breaker, no auto-disable', async () => {
      const primary = primaries.get('openai') as { fake: FakeUpstream; channelId: string };
      const send = async () =>
        (
          await postRaw(
            `${gw.url}/v1/chat/completions`,
            { model: 'fo-solo', temperature: 5, messages: [{ role: 'user', content: 'Hi' }] },
            { authorization: `Bearer ${gw.key}` },
          )
        ).status;
      primary.fake.setScenario('bad_request');
      try {
        for (let i = 0; i < 5; i++) expect(await send()).toBe(400);
        for (let i = 0; i < 2; i++) {
          clock.advance(31_000);
          expect(await send()).toBe(400);
        }
        primary.fake.setScenario('text');
        expect(await send()).toBe(200);
        const channel = await gw.call<{ status: string }>('GET', `/api/admin/channels/${primary.channelId}`, {
          token: MASTER_KEY,
        });
        expect(channel.body.status).toBe('active');
      } finally {
        primary.fake.setScenario('text');
        await gw.call('PATCH', `/api/admin/channels/${primary.channelId}`, {
          token: MASTER_KEY,
          body: { enabled: true },
        });
      }
    });
  });
}
