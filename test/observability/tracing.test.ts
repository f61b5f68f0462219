/**
 * OpenTelemetry traces against an in-test OTLP/HTTP receiver (the exporter's JSON encoding): a request span
 * parented by the client's `traceparent`, a child span per upstream attempt whose context reaches the
 * upstream as `traceparent`, and a settle span, with GenAI semantic-convention attributes. With tracing off
 * nothing is sent upstream and no provider exists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { openTracing, type RequestTracing } from '../../src/observability/index.js';
import type { FakeUpstream } from '../support/fakes/http.js';
import { openAiAnswers, start as startOpenAi } from '../support/fakes/openai.js';
import { attr, CLIENT, OtlpReceiver, type OtlpSpan, SERVER } from '../support/fakes/otlp.js';
import {
  addChannel,
  addModel,
  eventually,
  type GatewayUnderTest,
  openaiClient,
  postRaw,
  startGateway,
} from '../support/gateway.js';

const TEXT = openAiAnswers('openai').text.usage;

describe('OpenTelemetry traces', () => {
  let receiver: OtlpReceiver;
  let tracing: RequestTracing;
  let gw: GatewayUnderTest;
  let primary: FakeUpstream;
  let backup: FakeUpstream;

  beforeAll(async () => {
    receiver = await new OtlpReceiver().start();
    tracing = await openTracing({ url: `${receiver.url}/v1/traces`, serviceName: 'aihub-test' });
    gw = await startGateway('sqlite', { tracing });
    primary = await startOpenAi({ flavor: 'openai' });
    backup = await startOpenAi({ flavor: 'openai' });
    const primaryId = (
      await addChannel(gw, { name: 'primary', type: 'openai', baseUrl: primary.baseUrl, keys: [primary.key] })
    ).id;
    const backupId = (
      await addChannel(gw, { name: 'backup', type: 'openai', baseUrl: backup.baseUrl, keys: [backup.key] })
    ).id;
    await addModel(gw, {
      name: 'traced',
      routes: [
        { channelId: primaryId, upstreamModel: 'gpt-4o', priority: 10 },
        { channelId: backupId, upstreamModel: 'gpt-4o-mini', priority: 0 },
      ],
    });
  });

  afterAll(async () => {
    await gw?.t.close();
    await Promise.all([primary?.close(), backup?.close(), receiver?.close()]);
  });

  it("continues the client's trace: request, attempt and settle spans; the upstream gets the attempt's context", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const clientSpan = '00f067aa0ba902b7';
    primary.setScenario('text');
    const res = await postRaw(
      `${gw.url}/v1/chat/completions`,
      { model: 'traced', messages: [{ role: 'user', content: 'hi' }] },
      { authorization: `Bearer ${gw.key}`, traceparent: `00-${traceId}-${clientSpan}-01` },
    );
    expect(res.status).toBe(200);
    const spans = await eventually(async () => {
      await tracing.flush();
      const found = receiver.spans().filter((s) => s.traceId === traceId);
      return found.length >= 3 ? found : undefined;
    });
    expect(receiver.contentTypes[0]).toMatch(/^application\/json/);

    const request = spans.find((s) => s.kind === SERVER) as OtlpSpan;
    expect(request).toBeDefined();
    expect(request.parentSpanId).toBe(clientSpan);
    expect(request.name).toBe('chat traced');
    expect(attr(request, 'gen_ai.operation.name')).toBe('chat');
    expect(attr(request, 'gen_ai.request.model')).toBe('traced');
    expect(attr(request, 'gen_ai.response.model')).toBe('gpt-4o');
    expect(attr(request, 'gen_ai.usage.input_tokens')).toBe(TEXT.prompt);
    expect(attr(request, 'gen_ai.usage.output_tokens')).toBe(TEXT.completion);
    expect(attr(request, 'http.response.status_code')).toBe(200);
    expect(attr(request, 'aihub.request_id')).toBe(res.requestId);

    const attempt = spans.find((s) => s.kind === CLIENT) as OtlpSpan;
    expect(attempt.parentSpanId).toBe(request.spanId);
    expect(attempt.name).toBe('chat gpt-4o');
    expect(attr(attempt, 'gen_ai.system')).toBe('openai');
    expect(attr(attempt, 'gen_ai.request.model')).toBe('gpt-4o');
    expect(attr(attempt, 'aihub.channel')).toBe('primary');
    expect(attr(attempt, 'http.response.status_code')).toBe(200);

    const settle = spans.find((s) => s.name === 'settle') as OtlpSpan;
    expect(settle.parentSpanId).toBe(request.spanId);
    expect(attr(settle, 'gen_ai.usage.input_tokens')).toBe(TEXT.prompt);

    // W3C trace context sent upstream: same trace, the attempt span as parent.
    expect(primary.last().headers.traceparent).toBe(`00-${traceId}-${attempt.spanId}-01`);
    const resource = receiver.exports[0]?.resourceSpans[0]?.resource.attributes ?? [];
    expect(resource.find((a) => a.key === 'service.name')?.value.stringValue).toBe('aihub-test');
  });

  it('a failover is two attempt spans in one new trace; the failed one is an error, each upstream got its own context', async () => {
    primary.queueScenario('server_error');
    backup.setScenario('text');
    const before = receiver.spans().length;
    const stream = await openaiClient(gw).chat.completions.create({
      model: 'traced',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    for await (const _ of stream) {
      // read it all
    }
    const spans = await eventually(async () => {
      await tracing.flush();
      const fresh = receiver.spans().slice(before);
      return fresh.filter((s) => s.kind === CLIENT).length >= 2 && fresh.some((s) => s.kind === SERVER)
        ? fresh
        : undefined;
    });
    const request = spans.find((s) => s.kind === SERVER) as OtlpSpan;
    expect(request.parentSpanId ?? '').toBe('');
    const attempts = spans.filter((s) => s.kind === CLIENT && s.traceId === request.traceId);
    expect(attempts.map((a) => attr(a, 'aihub.channel'))).toEqual(['primary', 'backup']);
    expect(attempts[0]?.status?.code).toBe(2);
    expect(attr(attempts[0] as OtlpSpan, 'error.type')).toBe('upstream_error');
    expect(attr(attempts[0] as OtlpSpan, 'http.response.status_code')).toBe(500);
    expect(primary.last().headers.traceparent).toBe(`00-${request.traceId}-${attempts[0]?.spanId}-01`);
    expect(backup.last().headers.traceparent).toBe(`00-${request.traceId}-${attempts[1]?.spanId}-01`);
    expect(attr(request, 'gen_ai.response.model')).toBe('gpt-4o-mini');
  });
});

describe('tracing off', () => {
  it('is on only when an OTLP endpoint is configured and not disabled', () => {
    const on = (env: Record<string, string>) => loadConfig({ AIHUB_DATA_DIR: '/tmp/aihub-none', ...env }).tracing;
    expect(on({})).toBe(false);
    expect(on({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
    expect(on({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' })).toBe(true);
    expect(on({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(on({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
  });

  it('sends no traceparent upstream and holds no tracer', async () => {
    const gw = await startGateway('sqlite');
    const upstream = await startOpenAi({ flavor: 'openai' });
    try {
      expect(gw.t.services.observability.tracing).toBeUndefined();
      const channel = await addChannel(gw, {
        name: 'plain',
        type: 'openai',
        baseUrl: upstream.baseUrl,
        keys: [upstream.key],
      });
      await addModel(gw, { name: 'untraced', routes: [{ channelId: channel.id, upstreamModel: 'gpt-4o' }] });
      const res = await postRaw(
        `${gw.url}/v1/chat/completions`,
        { model: 'untraced', messages: [{ role: 'user', content: 'hi' }] },
        { authorization: `Bearer ${gw.key}`, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      );
      expect(res.status).toBe(200);
      expect(upstream.last().headers.traceparent).toBeUndefined();
    } finally {
      await upstream.close();
      await gw.t.close();
    }
  });
});
