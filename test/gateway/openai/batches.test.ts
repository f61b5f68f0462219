/**
 * The OpenAI Files and Batch APIs with the official `openai` SDK as the client (files.create,
 * batches.create, batches.retrieve, files.content): a 1,000-line batch through the whole pipeline against a
 * fake upstream (each line sent once, usage rows tagged with the batch), a cancel mid-way (partial output,
 * the unsent lines in the error file), per-line errors in the error file, and the bad inputs a client gets a
 * 4xx for. Both engines.
 */
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, register } from '../../support/app.js';
import { ENGINES } from '../../support/databases.js';
import { ProgrammableUpstream } from '../../support/fakes/programmable-upstream.js';
import {
  addChannel,
  addModel,
  createKey,
  eventually,
  type GatewayUnderTest,
  openaiClient,
  startGateway,
  uniqueEmail,
} from '../../support/gateway.js';

/** A line of a batch's output or error file. */
interface OutputLine {
  id: string;
  custom_id: string | null;
  response: { status_code: number; request_id: string; body: { choices: Array<{ message: { content: string } }> } };
  error: { code: string; message: string } | null;
}

const MODEL = 'batch-model';
const OTHER = 'other-model';

function chatLine(customId: string, model = MODEL, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content: `question ${customId}` }], max_tokens: 10 },
    ...extra,
  });
}

function jsonl(count: number, prefix: string): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(chatLine(`${prefix}-${i}`));
  return `${lines.join('\n')}\n`;
}

async function upload(sdk: OpenAI, text: string, name = 'input.jsonl') {
  return sdk.files.create({ file: await toFile(Buffer.from(text), name), purpose: 'batch' });
}

async function finished(sdk: OpenAI, id: string, timeoutMs = 60_000): Promise<OpenAI.Batches.Batch> {
  return eventually(
    async () => {
      const batch = await sdk.batches.retrieve(id);
      return ['completed', 'failed', 'cancelled', 'expired'].includes(batch.status) ? batch : undefined;
    },
    timeoutMs,
    'the batch to finish',
  );
}

async function linesOf(sdk: OpenAI, fileId: string | null | undefined): Promise<OutputLine[]> {
  if (!fileId) return [];
  const text = await (await sdk.files.content(fileId)).text();
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as OutputLine);
}

/** custom_ids the upstream was asked about, from the question text. */
function sentIds(upstream: ProgrammableUpstream): string[] {
  return upstream.requests
    .filter((r) => r.path.endsWith('/chat/completions'))
    .map((r) => (JSON.parse(r.body) as { messages: Array<{ content: string }> }).messages[0]?.content.slice(9) ?? '');
}

describe.each(ENGINES)('Files and Batch API (%s)', (engine) => {
  let gw: GatewayUnderTest;
  let sdk: OpenAI;
  let upstream: ProgrammableUpstream;

  beforeAll(async () => {
    upstream = await new ProgrammableUpstream().start();
    gw = await startGateway(engine, {
      env: {
        AIHUB_BATCH_RPS: '2000',
        AIHUB_BATCH_CONCURRENCY: '8',
        AIHUB_JOBS_POLL_MS: '50',
        AIHUB_BATCH_LINE_MAX_KB: '4',
      },
    });
    const channel = await addChannel(gw, { name: 'up', type: 'openai', baseUrl: upstream.url, keys: ['sk-up'] });
    await addModel(gw, {
      name: MODEL,
      inputPrice: 1_000_000,
      outputPrice: 2_000_000,
      routes: [{ channelId: channel.id }],
    });
    await addModel(gw, { name: OTHER, routes: [{ channelId: channel.id }] });
    await gw.t.services.jobs.start({ workers: true });
    sdk = openaiClient(gw);
  }, 60_000);

  afterAll(async () => {
    await gw?.t.close();
    await upstream?.close();
  });

  it('runs a 1,000-line batch: every line once, in the output file, with usage rows tagged with the batch', async () => {
    const before = upstream.requests.length;
    const file = await upload(sdk, jsonl(1000, 'big'));
    expect(file).toMatchObject({ object: 'file', purpose: 'batch', status: 'processed', filename: 'input.jsonl' });
    expect(file.id).toMatch(/^file-/);
    expect(await sdk.files.retrieve(file.id)).toMatchObject({ id: file.id, bytes: file.bytes });

    const created = await sdk.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
      metadata: { purpose: 'test' },
    });
    expect(created).toMatchObject({ object: 'batch', status: 'validating', endpoint: '/v1/chat/completions' });
    expect(created.request_counts).toEqual({ total: 1000, completed: 0, failed: 0 });

    const batch = await finished(sdk, created.id);
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 1000, completed: 1000, failed: 0 });
    expect(batch.metadata).toEqual({ purpose: 'test' });
    expect(batch.error_file_id).toBeNull();
    expect(batch.completed_at).toBeGreaterThan(0);

    const output = await linesOf(sdk, batch.output_file_id);
    expect(output).toHaveLength(1000);
    expect(new Set(output.map((l) => l.custom_id)).size).toBe(1000);
    expect(output[0]).toMatchObject({ custom_id: 'big-0', error: null, response: { status_code: 200 } });
    expect(output[0]?.response.body.choices[0]?.message.content).toBe('hello from fake');
    expect(output[0]?.id).toMatch(/^batch_req_/);

    const sent = sentIds({ requests: upstream.requests.slice(before) } as ProgrammableUpstream);
    expect(sent).toHaveLength(1000);
    expect(new Set(sent).size).toBe(1000);

    await gw.t.services.recorder.flush();
    const rows = await gw.t.services.database.db
      .selectFrom('request_logs')
      .select(['id', 'cost_micros', 'key_id'])
      .where('batch_id', '=', batch.id)
      .execute();
    expect(rows).toHaveLength(1000);
    expect(rows.every((r) => r.key_id === gw.keyId && Number(r.cost_micros) > 0)).toBe(true);
    expect(rows.map((r) => r.id)).toContain(output[0]?.response.request_id);

    // The batch and its files are the owner's: listed, and the job is on the owner's Jobs page.
    const list = await sdk.batches.list();
    expect(list.data.map((b) => b.id)).toContain(batch.id);
    const jobs = await gw.call<{ data: Array<{ type: string; state: string }> }>('GET', '/api/jobs?type=batch.run', {
      token: gw.admin.token,
    });
    expect(jobs.body.data.some((j) => j.state === 'succeeded')).toBe(true);
  }, 120_000);

  it('cancels mid-way: stops after the lines in flight; partial output, unsent lines in the error file', async () => {
    upstream.always({ kind: 'ok', delayMs: 15 });
    try {
      const before = upstream.requests.length;
      const file = await upload(sdk, jsonl(1000, 'cancel'));
      const created = await sdk.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      });
      await eventually(
        async () => ((await sdk.batches.retrieve(created.id)).request_counts?.completed ?? 0) >= 40,
        30_000,
      );
      const cancelling = await sdk.batches.cancel(created.id);
      expect(['cancelling', 'cancelled']).toContain(cancelling.status);
      const batch = await finished(sdk, created.id);
      expect(batch.status).toBe('cancelled');
      expect(batch.cancelled_at).toBeGreaterThan(0);
      const output = await linesOf(sdk, batch.output_file_id);
      const errors = await linesOf(sdk, batch.error_file_id);
      expect(output.length).toBeGreaterThanOrEqual(40);
      expect(output.length).toBeLessThan(1000);
      expect(batch.request_counts?.completed).toBe(output.length);
      expect(errors.every((l) => l.error?.code === 'batch_cancelled')).toBe(true);
      expect(output.length + errors.length).toBe(1000);
      // Every line the upstream saw is in the output, exactly once; no line was both sent and reported unsent.
      const sent = sentIds({ requests: upstream.requests.slice(before) } as ProgrammableUpstream);
      expect(new Set(sent).size).toBe(sent.length);
      expect(sent.sort()).toEqual(output.map((l) => l.custom_id).sort());
      await expect(sdk.batches.cancel(created.id)).rejects.toMatchObject({ status: 409 });
    } finally {
      upstream.always({ kind: 'ok' });
    }
  }, 120_000);

  it('cancels the batch when an admin cancels its job (running or still queued) in the jobs API', async () => {
    upstream.always({ kind: 'ok', delayMs: 15 });
    try {
      // Batch jobs run two at a time: the third waits in the queue.
      const batches = [];
      for (const name of ['job-a', 'job-b', 'job-c']) {
        const file = await upload(sdk, jsonl(400, name));
        batches.push(
          await sdk.batches.create({
            input_file_id: file.id,
            endpoint: '/v1/chat/completions',
            completion_window: '24h',
          }),
        );
      }
      type Job = { id: string; state: string; payload: { batchId: string } };
      const jobOf = async (batchId: string) =>
        (
          await gw.call<{ data: Job[] }>('GET', '/api/admin/jobs?type=batch.run&limit=100', { token: gw.admin.token })
        ).body.data.find((j) => j.payload.batchId === batchId);
      const [running, , queued] = batches as [OpenAI.Batches.Batch, OpenAI.Batches.Batch, OpenAI.Batches.Batch];
      await eventually(
        async () => ((await sdk.batches.retrieve(running.id)).request_counts?.completed ?? 0) >= 20,
        30_000,
      );
      const waiting = await jobOf(queued.id);
      expect(waiting?.state).toBe('queued');
      const cancelQueued = await gw.call<Job>('POST', `/api/admin/jobs/${waiting?.id}/cancel`, {
        token: gw.admin.token,
      });
      expect(cancelQueued.status).toBe(200);
      // Nothing runs it any more: it is cancelled at once, every line reported unsent.
      const third = await sdk.batches.retrieve(queued.id);
      expect(third.status).toBe('cancelled');
      expect((await linesOf(sdk, third.error_file_id)).every((l) => l.error?.code === 'batch_cancelled')).toBe(true);
      expect((await linesOf(sdk, third.error_file_id)).length).toBe(400);

      const job = await jobOf(running.id);
      expect(job?.state).toBe('running');
      const cancelRunning = await gw.call<Job>('POST', `/api/admin/jobs/${job?.id}/cancel`, { token: gw.admin.token });
      expect(cancelRunning.status).toBe(200);
      const first = await finished(sdk, running.id);
      expect(first.status).toBe('cancelled');
      const output = await linesOf(sdk, first.output_file_id);
      const errors = await linesOf(sdk, first.error_file_id);
      expect(output.length).toBeGreaterThanOrEqual(20);
      expect(output.length + errors.length).toBe(400);
      expect(errors.every((l) => l.error?.code === 'batch_cancelled')).toBe(true);
      await sdk.batches.cancel(batches[1]?.id as string);
      await finished(sdk, batches[1]?.id as string);
    } finally {
      upstream.always({ kind: 'ok' });
    }
  }, 120_000);

  it('puts invalid lines and failed requests in the error file without failing the batch', async () => {
    upstream.next({
      kind: 'status',
      status: 400,
      body: { error: { message: 'bad thing', type: 'invalid_request_error', param: null, code: null } },
    });
    const text = [
      chatLine('bad-request'),
      chatLine('wrong-url', MODEL, { url: '/v1/embeddings' }),
      JSON.stringify({ method: 'POST', url: '/v1/chat/completions', body: { model: MODEL } }),
      chatLine('fine'),
    ].join('\n');
    const file = await upload(sdk, text);
    const created = await sdk.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const batch = await finished(sdk, created.id);
    expect(batch.status).toBe('completed');
    expect(batch.request_counts).toEqual({ total: 4, completed: 1, failed: 3 });
    const errors = await linesOf(sdk, batch.error_file_id);
    expect(errors.map((l) => l.custom_id)).toEqual(['bad-request', 'wrong-url', null]);
    expect(errors[0]?.response.status_code).toBe(400);
    expect(errors[1]?.error).toMatchObject({ code: 'invalid_url' });
    expect(errors[2]?.error).toMatchObject({ code: 'missing_custom_id' });
    expect((await linesOf(sdk, batch.output_file_id)).map((l) => l.custom_id)).toEqual(['fine']);
  }, 60_000);

  it('refuses bad input with a 4xx naming the line or the field', async () => {
    const refused = async (promise: Promise<unknown>) => {
      try {
        await promise;
      } catch (error) {
        return error as { status: number; message: string; param?: string };
      }
      throw new Error('expected a refusal');
    };
    let e = await refused(upload(sdk, `${chatLine('a')}\nnot json\n`));
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/line 2: not valid JSON/);
    e = await refused(upload(sdk, `${chatLine('a')}\n${chatLine('b', MODEL, { pad: 'x'.repeat(5000) })}\n`));
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/line 2: longer than the limit of 4096 bytes/);
    e = await refused(
      sdk.files.create({ file: await toFile(Buffer.from(chatLine('a')), 'a.jsonl'), purpose: 'fine-tune' }),
    );
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/purpose/);

    const good = await upload(sdk, `${chatLine('a')}\n`);
    e = await refused(
      sdk.batches.create({
        input_file_id: good.id,
        endpoint: '/v1/images' as '/v1/embeddings',
        completion_window: '24h',
      }),
    );
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/endpoint/);
    e = await refused(
      sdk.batches.create({ input_file_id: 'file-nope', endpoint: '/v1/chat/completions', completion_window: '24h' }),
    );
    expect(e.status).toBe(404);
    const dup = await upload(sdk, `${chatLine('same')}\n${chatLine('same')}\n`);
    e = await refused(
      sdk.batches.create({ input_file_id: dup.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
    );
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/line 2: custom_id 'same'/);

    // A key limited to one model: a file mixing in another is refused, naming the line.
    const limited = await gw.call<{ secret: string }>('POST', '/api/keys', {
      token: gw.admin.token,
      body: { name: 'limited', allowedModels: [MODEL] },
    });
    const limitedSdk = openaiClient(gw, limited.body.secret);
    const mixed = await upload(limitedSdk, `${chatLine('a')}\n${chatLine('b', OTHER)}\n`);
    e = await refused(
      limitedSdk.batches.create({
        input_file_id: mixed.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      }),
    );
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/line 2: the model 'other-model'/);

    // Another tenant's file and batch do not exist for this caller.
    const other = await register(client(gw.url), uniqueEmail('other'));
    const otherKey = await createKey(client(gw.url), other.token);
    const otherSdk = openaiClient(gw, otherKey.secret);
    e = await refused(otherSdk.files.retrieve(good.id));
    expect(e.status).toBe(404);
    e = await refused(otherSdk.files.content(good.id));
    expect(e.status).toBe(404);
    e = await refused(
      otherSdk.batches.create({ input_file_id: good.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
    );
    expect(e.status).toBe(404);
    const mine = (await sdk.batches.list()).data[0];
    e = await refused(otherSdk.batches.retrieve(mine?.id ?? 'batch_x'));
    expect(e.status).toBe(404);
    expect((await otherSdk.files.list()).data).toEqual([]);

    // No key at all.
    const anonymous = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${gw.url}/v1`, maxRetries: 0 });
    e = await refused(anonymous.files.list());
    expect(e.status).toBe(401);
  }, 60_000);

  it("bills batch lines with the model's batch discount, set through the admin API (0–100)", async () => {
    const channel = await addChannel(gw, { name: 'discount-up', type: 'openai', baseUrl: upstream.url, keys: ['k'] });
    const model = await addModel(gw, {
      name: 'discount-model',
      inputPrice: 3_000_000,
      outputPrice: 7_000_000,
      routes: [{ channelId: channel.id }],
    });
    expect(model).toMatchObject({ batchDiscountPercent: 0 });
    for (const bad of [101, -1, 12.5]) {
      const refused = await gw.call('PATCH', `/api/admin/models/${model.id}`, {
        token: gw.admin.token,
        body: { batchDiscountPercent: bad },
      });
      expect(refused.status, String(bad)).toBe(400);
    }
    const patched = await gw.call<{ batchDiscountPercent: number }>('PATCH', `/api/admin/models/${model.id}`, {
      token: gw.admin.token,
      body: { batchDiscountPercent: 40 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.batchDiscountPercent).toBe(40);
    const listed = await gw.call<{ data: Array<{ id: string; batchDiscountPercent: number }> }>(
      'GET',
      '/api/admin/models',
      { token: gw.admin.token },
    );
    expect(listed.body.data.find((m) => m.id === model.id)?.batchDiscountPercent).toBe(40);

    // The same request, once interactive (list price) and once as a batch line (40 % off).
    const body = {
      model: 'discount-model',
      messages: [{ role: 'user' as const, content: 'question same' }],
      max_tokens: 10,
    };
    const interactive = await sdk.chat.completions.create(body).withResponse();
    const file = await upload(
      sdk,
      `${JSON.stringify({ custom_id: 'same', method: 'POST', url: '/v1/chat/completions', body })}\n`,
    );
    const created = await sdk.batches.create({
      input_file_id: file.id,
      endpoint: '/v1/chat/completions',
      completion_window: '24h',
    });
    const batch = await finished(sdk, created.id);
    expect(batch.request_counts).toEqual({ total: 1, completed: 1, failed: 0 });
    await gw.t.services.recorder.flush();
    const db = gw.t.services.database.db;
    const listRow = await db
      .selectFrom('request_logs')
      .select(['cost_micros', 'prompt_tokens', 'completion_tokens'])
      .where('id', '=', interactive.response.headers.get('x-request-id') ?? '')
      .executeTakeFirstOrThrow();
    const batchRow = await db
      .selectFrom('request_logs')
      .select(['cost_micros', 'prompt_tokens', 'completion_tokens'])
      .where('batch_id', '=', batch.id)
      .executeTakeFirstOrThrow();
    expect(batchRow.prompt_tokens).toBe(listRow.prompt_tokens);
    expect(batchRow.completion_tokens).toBe(listRow.completion_tokens);
    const list = Number(listRow.cost_micros);
    expect(list).toBeGreaterThan(0);
    expect(Number(batchRow.cost_micros)).toBe(list - Math.ceil((list * 40) / 100));
  }, 60_000);

  it('fails a batch whose key was revoked before it ran; deletes files', async () => {
    const key = await createKey(gw.call, gw.admin.token, 'short-lived');
    const keySdk = openaiClient(gw, key.secret);
    const file = await upload(keySdk, `${chatLine('a')}\n`);
    await gw.t.services.jobs.stop(1000);
    try {
      const created = await keySdk.batches.create({
        input_file_id: file.id,
        endpoint: '/v1/chat/completions',
        completion_window: '24h',
      });
      const revoked = await gw.call('DELETE', `/api/keys/${key.id}`, { token: gw.admin.token });
      expect(revoked.status).toBeLessThan(300);
      await gw.t.services.jobs.start({ workers: true });
      // The revoked key cannot read its batch any more: read it in the database.
      const row = await eventually(async () => {
        const r = await gw.t.services.database.db
          .selectFrom('batches')
          .selectAll()
          .where('id', '=', created.id)
          .executeTakeFirstOrThrow();
        return r.status === 'failed' ? r : undefined;
      }, 30_000);
      expect(JSON.parse(row.errors ?? '{}').data[0].code).toBe('invalid_api_key');
    } finally {
      await gw.t.services.jobs.start({ workers: true }).catch(() => undefined);
    }
    const mine = await upload(sdk, `${chatLine('z')}\n`);
    expect(await sdk.files.delete(mine.id)).toEqual({ id: mine.id, object: 'file', deleted: true });
    await expect(sdk.files.retrieve(mine.id)).rejects.toMatchObject({ status: 404 });
  }, 60_000);
});
