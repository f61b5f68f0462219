import { CompiledQuery, type Kysely } from 'kysely';
import type { Database, RequestLogsTable } from '../../infra/db/schema.js';
import { aggregate, dimensionsOf, ROLLUP_TABLES, type RollupTable, rollupParameters, upsertSql } from './rollup.js';

/** One rollup row to upsert: its table and its values in `columnsOf(table)` order. */
export type RollupWrite = [RollupTable, Array<number | string>];

/** Rows per upsert statement on the Kysely path (at most 99 parameters each). */
const ROWS_PER_STATEMENT = 50;

/**
 * The rollup rows of one batch of request-log rows, for every grain (minute, hour, day), wide and narrow:
 * aggregated in memory once per flush, so the database sees one upsert per group rather than one per request.
 */
export function rollupsOf(rows: readonly RequestLogsTable[]): RollupWrite[] {
  const writes: RollupWrite[] = [];
  for (const { table, grain } of ROLLUP_TABLES)
    for (const row of aggregate(rows, grain, dimensionsOf(table))) writes.push([table, rollupParameters(row, table)]);
  return writes;
}

/** The one-row upsert of each rollup table with `?` placeholders (the SQLite writer thread prepares them). */
export function rollupStatements(): Record<RollupTable, string> {
  const statements = {} as Record<RollupTable, string>;
  for (const { table } of ROLLUP_TABLES) statements[table] = upsertSql(table, 1, 'question');
  return statements;
}

/** Upsert rollup rows through `db` (a transaction of the log write): a few multi-row statements per table. */
export async function writeRollups(db: Kysely<Database>, writes: readonly RollupWrite[]): Promise<void> {
  if (writes.length === 0) return;
  const placeholder = placeholderOf(db);
  const byTable = new Map<RollupTable, Array<number | string>[]>();
  for (const [table, values] of writes) {
    const list = byTable.get(table) ?? [];
    list.push(values);
    byTable.set(table, list);
  }
  for (const [table, rows] of byTable) {
    for (let offset = 0; offset < rows.length; offset += ROWS_PER_STATEMENT) {
      const chunk = rows.slice(offset, offset + ROWS_PER_STATEMENT);
      await db.executeQuery(CompiledQuery.raw(upsertSql(table, chunk.length, placeholder), chunk.flat()));
    }
  }
}

/** How the engine behind `db` marks parameters: `$1` (PostgreSQL) or `?` (SQLite). */
function placeholderOf(db: Kysely<Database>): 'question' | 'dollar' {
  const probe = db.selectFrom('request_logs').select('id').where('id', '=', 'x').compile().sql;
  return probe.includes('$1') ? 'dollar' : 'question';
}
