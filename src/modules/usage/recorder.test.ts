import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/databases.js';
import type { RequestLogsTable } from '../../infra/db/schema.js';
import { UsageRecorder, type UsageRecorderOptions } from './recorder.js';

function row(id: string, at: number, keyId: string | null = null): RequestLogsTable {
  return {
    id,
    at,
    user_id: null,
    key_id: keyId,
    org_id: null,
    team_id: null,
    channel_id: null,
    model: 'm',
    upstream_model: null,
    endpoint: 'chat',
    stream: 0,
    status: 200,
    error_code: null,
    prompt_tokens: 1,
    completion_tokens: 2,
    cached_tokens: 0,
    reasoning_tokens: 0,
    estimated: 0,
    cost_micros: 3,
    price_micros: 3,
    latency_ms: 4,
    ttft_ms: null,
    client_ip: null,
    attempts: null,
    request_body: null,
    response_body: null,
    cache: null,
  };
}

/** Rows in the request log. */
async function logRows(database: TestDatabase): Promise<number> {
  const { n } = await database.handle.db
    .selectFrom('request_logs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(n);
}

describe.each([
  ['on the event loop', false],
  ['from a worker thread (SQLite)', true],
])('UsageRecorder, writing %s', (_mode, threaded) => {
  let db: TestDatabase | undefined;
  const recorders: UsageRecorder[] = [];
  afterEach(async () => {
    for (const r of recorders.splice(0)) await r.close().catch(() => undefined);
    await db?.drop();
    db = undefined;
  });
  function recorderOn(database: TestDatabase, options: UsageRecorderOptions = {}): UsageRecorder {
    const recorder = new UsageRecorder(database.handle.db, {
      ...options,
      sqliteFile: threaded ? database.handle.location : undefined,
    });
    recorders.push(recorder);
    return recorder;
  }

  it('writes full batches by itself (one drain) and the rest on close', async () => {
    db = await createTestDatabase('sqlite');
    const recorder = recorderOn(db, { intervalMs: 60_000, batchSize: 7 });
    for (let i = 0; i < 20; i++) recorder.record(row(`req_${String(i).padStart(3, '0')}`, 1000 + i));
    const database = db;
    const count = () => logRows(database);
    // A full batch starts one drain, which also takes the rows queued while it writes: all 20 go out
    // without waiting for the (60 s) timer.
    await expect.poll(count, { timeout: 2000 }).toBe(20);
    expect(recorder.pending).toBe(0);
    recorder.record(row('req_last', 2000));
    expect(recorder.pending).toBe(1);
    await recorder.close();
    expect(await count()).toBe(21);
    expect(recorder.pending).toBe(0);
  });

  it('flush and close wait for records whose tokens are still being counted', async () => {
    const database = await createTestDatabase('sqlite');
    db = database;
    const recorder = recorderOn(database, { intervalMs: 60_000 });
    const count = () => logRows(database);
    const later = (id: string, ms: number) =>
      new Promise<void>((resolve) => setTimeout(resolve, ms)).then(() => recorder.record(row(id, 1000)));
    recorder.track(later('req_flush', 30));
    await recorder.flush();
    expect(await count()).toBe(1);
    recorder.track(later('req_close', 30));
    // A record whose counting failed is reported, not waited for forever.
    recorder.track(Promise.reject(new Error('count failed')));
    await recorder.close();
    expect(await count()).toBe(2);
  });

  it('close waits (up to waitMs) for rows announced but not handed over yet', async () => {
    const database = await createTestDatabase('sqlite');
    db = database;
    const recorder = recorderOn(database, { intervalMs: 60_000 });
    // Two requests admitted; one settles 50 ms into the shutdown (a stream whose upstream ends late).
    recorder.expect();
    recorder.expect();
    recorder.record(row('req_early', 1000));
    recorder.fulfil();
    setTimeout(() => {
      recorder.record(row('req_late', 1001));
      recorder.fulfil();
    }, 50);
    expect(recorder.outstanding).toBe(1);
    await recorder.close({ waitMs: 5_000 });
    expect(recorder.outstanding).toBe(0);
    expect(await logRows(database)).toBe(2);
  });

  it('settled gives up after its timeout; a row after close is reported, not dropped in silence', async () => {
    const database = await createTestDatabase('sqlite');
    db = database;
    const errors: unknown[] = [];
    const recorder = recorderOn(database, { intervalMs: 60_000, onError: (error) => errors.push(error) });
    expect(await recorder.settled(10)).toBe(true);
    recorder.expect();
    expect(await recorder.settled(20)).toBe(false);
    await recorder.close({ waitMs: 20 });
    recorder.record(row('req_after_close', 1000));
    recorder.fulfil();
    expect(recorder.closed).toBe(true);
    expect(recorder.dropped).toBe(1);
    expect(String(errors[0])).toContain('req_after_close');
    expect(await logRows(database)).toBe(0);
  });

  it('keeps rows while the database fails and writes them once it is back', async () => {
    db = await createTestDatabase('sqlite');
    const errors: unknown[] = [];
    const recorder = recorderOn(db, { intervalMs: 60_000, onError: (e) => errors.push(e) });
    recorder.record(row('req_a', 1));
    recorder.record(row('req_a', 2)); // duplicate id: the batch insert fails
    await recorder.flush();
    expect(errors).toHaveLength(1);
    expect(recorder.pending).toBe(2);
  });

  it.runIf(threaded)(
    'keeps rows when the writer thread cannot open the database, and the process goes on',
    async () => {
      db = await createTestDatabase('sqlite');
      const errors: unknown[] = [];
      const recorder = new UsageRecorder(db.handle.db, {
        intervalMs: 60_000,
        onError: (e) => errors.push(e),
        sqliteFile: join(db.dataDir, 'missing-dir', 'aihub.db'),
      });
      recorders.push(recorder);
      recorder.record(row('req_a', 1));
      recorder.record(row('req_b', 2));
      await recorder.flush();
      expect(errors).toHaveLength(1);
      expect(String(errors[0])).toMatch(/directory does not exist|unable to open/i);
      expect(recorder.pending).toBe(2);
    },
  );

  it("updates each key's last_used_at to its latest request", async () => {
    db = await createTestDatabase('sqlite');
    const d = db.handle.db;
    await d
      .insertInto('users')
      .values({
        id: 'usr_1',
        email: 'a@b.c',
        name: 'a',
        password_hash: 'x',
        role: 'user',
        status: 'active',
        org_id: 'org_default',
        created_at: 0,
        updated_at: 0,
        last_login_at: null,
        password_changed_at: 0,
        email_verified_at: null,
        sessions_valid_after: 0,
      })
      .execute();
    await d
      .insertInto('api_keys')
      .values({
        id: 'key_1',
        user_id: 'usr_1',
        org_id: 'org_default',
        team_id: null,
        team_owned: 0,
        name: 'k',
        key_hash: 'h',
        hint: 'sk-…',
        status: 'active',
        expires_at: null,
        created_at: 0,
        updated_at: 0,
        last_used_at: null,
        revoked_at: null,
        allowed_models: null,
        allowed_ips: null,
        budget_micros: null,
        budget_period: null,
        token_quota: null,
        token_quota_period: null,
        rpm: null,
        tpm: null,
        max_concurrency: null,
        metadata: null,
      })
      .execute();
    const recorder = recorderOn(db, { intervalMs: 60_000 });
    recorder.record(row('req_1', 500, 'key_1'));
    recorder.record(row('req_2', 900, 'key_1'));
    recorder.record(row('req_3', 700, 'key_1'));
    await recorder.close();
    const key = await d
      .selectFrom('api_keys')
      .select('last_used_at')
      .where('id', '=', 'key_1')
      .executeTakeFirstOrThrow();
    expect(key.last_used_at).toBe(900);
  });
});
