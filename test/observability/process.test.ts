/**
 * `aihub start` as users run it, configured only through the environment: AIHUB_METRICS_PORT opens the
 * metrics listener (the public port keeps answering 404), OTEL_EXPORTER_OTLP_ENDPOINT loads the tracer and
 * exports to the collector, and SIGTERM closes both and exits cleanly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { OtlpReceiver, SERVER } from '../support/fakes/otlp.js';
import { eventually, MASTER_KEY } from '../support/gateway.js';
import { databaseEnv, exitOf, freePort, type ServerProcess, spawnServer, waitHealthy } from '../support/processes.js';
import { parseExposition, total } from '../support/prometheus.js';

/** A server compiled by tsx on a busy 2-core machine. */
const START_MS = 90_000;

describe('a started server with a metrics port and an OTLP endpoint', () => {
  let db: TestDatabase;
  let receiver: OtlpReceiver;
  let server: ServerProcess;
  let metricsPort: number;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    receiver = await new OtlpReceiver().start();
    metricsPort = await freePort();
    server = spawnServer(await freePort(), {
      ...databaseEnv(db),
      AIHUB_MASTER_KEY: MASTER_KEY,
      AIHUB_METRICS_PORT: String(metricsPort),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'aihub-process-test',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    expect(await waitHealthy(server, START_MS), server.output()).toBe(true);
  }, START_MS + 10_000);

  afterAll(async () => {
    if (server?.child.exitCode === null) server.child.kill('SIGKILL');
    await receiver?.close();
    await db?.drop();
  });

  it('serves /metrics on its own port only, traces the request, and stops cleanly', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    // The demo's mock channel answers in process (no upstream).
    const res = await fetch(`${server.base}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${MASTER_KEY}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-b7ad6b7169203331-01`,
      },
      body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hello' }] }),
    });
    expect(res.status, await res.clone().text()).toBe(200);

    expect((await fetch(`${server.base}/metrics`)).status).toBe(404);
    const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scraped.status).toBe(200);
    const { samples } = parseExposition(await scraped.text());
    expect(total(samples, 'aihub_requests_total', { model: 'mock-gpt', status_class: '2xx' })).toBe(1);
    expect(total(samples, 'aihub_channel_up', { channel: 'demo-mock' })).toBe(1);

    const span = await eventually(
      () => receiver.spans().find((s) => s.traceId === traceId && s.kind === SERVER),
      10_000,
      'the request span at the collector',
    );
    expect(span.parentSpanId).toBe('b7ad6b7169203331');
    const resource = receiver.exports[0]?.resourceSpans[0]?.resource.attributes ?? [];
    expect(resource.find((a) => a.key === 'service.name')?.value.stringValue).toBe('aihub-process-test');

    server.child.kill('SIGTERM');
    expect(await exitOf(server.child, 20_000), server.output()).toBe(0);
    await expect(fetch(`http://127.0.0.1:${metricsPort}/metrics`)).rejects.toThrow();
  }, 60_000);
});
