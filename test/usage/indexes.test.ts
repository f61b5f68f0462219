import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/databases.js';

// The period sums of limits and the usage pages filter request_logs by one owner column and a time range;
// each must be answered from an index (the team one is partial: most rows have no team).
describe.each(ENGINES)('request_logs indexes on %s', (engine) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase(engine);
  });
  afterAll(async () => t?.drop());

  async function plan(column: string): Promise<string> {
    const db = t.handle.db;
    const query = `SELECT sum(cost_micros) FROM request_logs WHERE ${column} = 'x' AND at >= 0`;
    if (engine === 'sqlite') {
      const rows = await sql<{ detail: string }>`EXPLAIN QUERY PLAN ${sql.raw(query)}`.execute(db);
      return rows.rows.map((r) => r.detail).join('\n');
    }
    return db.connection().execute(async (conn) => {
      await sql`SET enable_seqscan = off`.execute(conn);
      const rows = await sql<{ 'QUERY PLAN': string }>`EXPLAIN ${sql.raw(query)}`.execute(conn);
      await sql`RESET enable_seqscan`.execute(conn);
      return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
    });
  }

  it.each([
    ['team_id', 'request_logs_team_at_idx'],
    ['org_id', 'request_logs_org_at_idx'],
    ['user_id', 'request_logs_user_at_idx'],
    ['key_id', 'request_logs_key_at_idx'],
  ])('a period sum by %s uses %s', async (column, index) => {
    expect(await plan(column)).toContain(index);
  });

  it('indexes only the rows that have a team', async () => {
    const query =
      engine === 'sqlite'
        ? sql<{ def: string }>`SELECT sql AS def FROM sqlite_master WHERE name = 'request_logs_team_at_idx'`
        : sql<{ def: string }>`SELECT indexdef AS def FROM pg_indexes WHERE indexname = 'request_logs_team_at_idx'`;
    const definition = (await query.execute(t.handle.db)).rows[0]?.def;
    expect(definition?.toLowerCase()).toMatch(/where.*team_id.*is not null/);
  });
});
