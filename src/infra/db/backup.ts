import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip } from 'node:zlib';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { DatabaseHandle, Engine } from './client.js';
import { appliedMigrations, knownMigrations, migrateTo, migrateToLatest } from './migrate.js';

/**
 * Logical backups: every table's rows as gzipped JSON lines, read in one consistent snapshot (a read
 * transaction on SQLite's WAL, REPEATABLE READ on PostgreSQL) while the server keeps running. The format is the
 * same for both engines, so a backup restores into either: it is also how a deployment moves from SQLite to
 * PostgreSQL. The schema is not in the file; it is the list of migrations the source had applied, and restore
 * builds it with this version's migrations before loading the rows.
 *
 * File: line 1 `{"format":"aihub-backup","version":1,...,"migrations":[...]}`, then per table a
 * `{"table":name,"columns":[...]}` line followed by one JSON array of values per row, in foreign-key order.
 */
export const BACKUP_FORMAT = 'aihub-backup';
const BACKUP_VERSION = 1;
/** Migration bookkeeping: rebuilt by the migrator on restore, never copied. */
const SKIPPED_TABLES = new Set(['aihub_migrations', 'aihub_migrations_lock']);
const PAGE_ROWS = 1000;

export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  version: number;
  createdAt: string;
  engine: Engine;
  migrations: string[];
}

export interface TableCount {
  table: string;
  rows: number;
}

type Db = Kysely<unknown> | Transaction<unknown>;
type Row = Record<string, unknown>;

/** Tables in an order where every table comes after the tables its foreign keys point to. */
async function tablesInForeignKeyOrder(db: Db, engine: Engine): Promise<Array<{ name: string; columns: string[] }>> {
  const tables = (await db.introspection.getTables())
    .filter((t) => !SKIPPED_TABLES.has(t.name) && !t.isView)
    .map((t) => ({ name: t.name, columns: t.columns.map((c) => c.name) }));
  const parents = new Map<string, Set<string>>(tables.map((t) => [t.name, new Set()]));
  const edges =
    engine === 'sqlite'
      ? (
          await Promise.all(
            tables.map(async (t) => {
              const { rows } = await sql<{
                table: string;
              }>`select "table" from pragma_foreign_key_list(${t.name})`.execute(db);
              return rows.map((r) => ({ child: t.name, parent: r.table }));
            }),
          )
        ).flat()
      : (
          await sql<{ child: string; parent: string }>`
            select cl.relname as child, pcl.relname as parent
            from pg_constraint c
            join pg_class cl on cl.oid = c.conrelid
            join pg_class pcl on pcl.oid = c.confrelid
            join pg_namespace n on n.oid = cl.relnamespace
            where c.contype = 'f' and n.nspname = current_schema()`.execute(db)
        ).rows;
  for (const { child, parent } of edges) if (child !== parent) parents.get(child)?.add(parent);
  const ordered: Array<{ name: string; columns: string[] }> = [];
  const placed = new Set<string>();
  const byName = new Map(tables.map((t) => [t.name, t]));
  const visit = (name: string, path: Set<string>) => {
    if (placed.has(name) || path.has(name)) return;
    path.add(name);
    for (const parent of parents.get(name) ?? []) if (byName.has(parent)) visit(parent, path);
    placed.add(name);
    ordered.push(byName.get(name) as { name: string; columns: string[] });
  };
  for (const t of [...tables].sort((a, b) => a.name.localeCompare(b.name))) visit(t.name, new Set());
  return ordered;
}

/** Rows of one table, a page at a time (keyset on `id` where the table has one: constant memory on big logs). */
async function* readRows(db: Db, table: string, columns: string[]): AsyncGenerator<Row[]> {
  if (!columns.includes('id')) {
    const { rows } = await sql<Row>`select * from ${sql.table(table)}`.execute(db);
    if (rows.length > 0) yield rows;
    return;
  }
  let after: unknown = null;
  for (;;) {
    const { rows } =
      after === null
        ? await sql<Row>`select * from ${sql.table(table)} order by id limit ${PAGE_ROWS}`.execute(db)
        : await sql<Row>`select * from ${sql.table(table)} where id > ${after} order by id limit ${PAGE_ROWS}`.execute(
            db,
          );
    if (rows.length === 0) return;
    yield rows;
    after = (rows[rows.length - 1] as Row).id;
    if (rows.length < PAGE_ROWS) return;
  }
}

const encodeValue = (value: unknown): unknown =>
  Buffer.isBuffer(value) ? { $base64: value.toString('base64') } : value instanceof Date ? value.getTime() : value;
const decodeValue = (value: unknown): unknown =>
  value !== null && typeof value === 'object' && '$base64' in value
    ? Buffer.from(String((value as { $base64: string }).$base64), 'base64')
    : value;

/** Write a consistent backup of the whole database to `file` (gzipped JSON lines). */
export async function backupDatabase(
  handle: DatabaseHandle,
  file: string,
  now: () => Date = () => new Date(),
): Promise<{ header: BackupHeader; tables: TableCount[] }> {
  const db = handle.db as unknown as Kysely<unknown>;
  const gzip = createGzip();
  const out = createWriteStream(file, { mode: 0o600 });
  const done = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
    gzip.once('error', reject);
  });
  gzip.pipe(out);
  const write = async (value: unknown) => {
    if (!gzip.write(`${JSON.stringify(value)}\n`)) await once(gzip, 'drain');
  };
  const counts: TableCount[] = [];
  const run = async (trx: Transaction<unknown>) => {
    const header: BackupHeader = {
      format: BACKUP_FORMAT,
      version: BACKUP_VERSION,
      createdAt: now().toISOString(),
      engine: handle.engine,
      migrations: await appliedMigrations(trx),
    };
    await write(header);
    for (const table of await tablesInForeignKeyOrder(trx, handle.engine)) {
      await write({ table: table.name, columns: table.columns });
      let rows = 0;
      for await (const page of readRows(trx, table.name, table.columns)) {
        for (const row of page) await write(table.columns.map((c) => encodeValue(row[c])));
        rows += page.length;
      }
      counts.push({ table: table.name, rows });
    }
    return header;
  };
  let header: BackupHeader;
  try {
    header =
      handle.engine === 'postgres'
        ? await db
            .transaction()
            .setIsolationLevel('repeatable read')
            .execute(async (trx) => {
              await sql`set transaction read only`.execute(trx);
              return run(trx);
            })
        : await db.transaction().execute(run);
  } finally {
    gzip.end();
  }
  await done;
  return { header, tables: counts };
}

/** Lines of a backup file, parsed. */
async function* backupLines(file: string): AsyncGenerator<unknown> {
  const input = createReadStream(file).pipe(createGunzip());
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) if (line.trim() !== '') yield JSON.parse(line) as unknown;
}

export class RestoreError extends Error {}

/** Read and check a backup's header. */
export async function readBackupHeader(file: string): Promise<BackupHeader> {
  let header: unknown;
  try {
    for await (const first of backupLines(file)) {
      header = first;
      break;
    }
  } catch (error) {
    throw new RestoreError(`${file} is not an AI Hub backup (${error instanceof Error ? error.message : error})`);
  }
  const h = header as Partial<BackupHeader> | undefined;
  if (h?.format !== BACKUP_FORMAT || !Array.isArray(h.migrations))
    throw new RestoreError(`${file} is not an AI Hub backup`);
  if (h.version !== BACKUP_VERSION)
    throw new RestoreError(
      `${file} is a backup in format version ${h.version}; this AI Hub reads version ${BACKUP_VERSION}`,
    );
  return h as BackupHeader;
}

/**
 * Restore a backup into `handle`'s database: build the schema the backup was taken at, load every row in one
 * transaction, then bring the schema up to date. The target must be empty (no migrations applied) unless
 * `replace` is set, which deletes everything in it first (in the same transaction: a failed restore leaves the
 * target as it was, apart from migrations that were missing).
 */
export async function restoreDatabase(
  handle: DatabaseHandle,
  file: string,
  options: { replace?: boolean } = {},
): Promise<{ header: BackupHeader; tables: TableCount[]; migratedAfter: string[] }> {
  const header = await readBackupHeader(file);
  const known = new Set(knownMigrations());
  const unknown = header.migrations.filter((m) => !known.has(m));
  if (unknown.length > 0)
    throw new RestoreError(
      `The backup was made by a newer AI Hub (migrations ${unknown.join(', ')}): restore it with that version or later`,
    );
  const db = handle.db as unknown as Kysely<unknown>;
  const applied = await appliedMigrations(db);
  if (applied.length > 0 && !options.replace)
    throw new RestoreError(
      'The target database is not empty: restore into a new database, or pass --force to replace its contents',
    );
  const extra = applied.filter((m) => !header.migrations.includes(m));
  if (extra.length > 0)
    throw new RestoreError(
      `The target database is at a newer schema than the backup (${extra.join(', ')}): restore into a new database`,
    );
  const last = header.migrations[header.migrations.length - 1];
  if (last) await migrateTo(handle.db, last);

  const counts: TableCount[] = [];
  await db.transaction().execute(async (trx) => {
    const tables = await tablesInForeignKeyOrder(trx, handle.engine);
    // Rows the migrations seeded (and, with replace, the old contents) make way for the backup's.
    for (const table of [...tables].reverse()) await sql`delete from ${sql.table(table.name)}`.execute(trx);
    const present = new Map(tables.map((t) => [t.name, new Set(t.columns)]));
    let current: { table: string; columns: string[]; batch: Row[]; rows: number } | undefined;
    const flush = async () => {
      if (!current || current.batch.length === 0) return;
      await trx
        .insertInto(current.table as never)
        .values(current.batch as never)
        .execute();
      current.batch = [];
    };
    let first = true;
    for await (const line of backupLines(file)) {
      if (first) {
        first = false;
        continue;
      }
      if (!Array.isArray(line)) {
        await flush();
        if (current) counts.push({ table: current.table, rows: current.rows });
        const { table, columns } = line as { table: string; columns: string[] };
        const columnsHere = present.get(table);
        if (!columnsHere) throw new RestoreError(`The backup has a table "${table}" this schema does not have`);
        for (const c of columns)
          if (!columnsHere.has(c))
            throw new RestoreError(`The backup has a column "${table}.${c}" this schema does not have`);
        current = { table, columns, batch: [], rows: 0 };
        continue;
      }
      if (!current) throw new RestoreError('The backup has rows before any table');
      const row: Row = {};
      current.columns.forEach((c, i) => {
        row[c] = decodeValue(line[i]);
      });
      current.batch.push(row);
      current.rows++;
      // Stay under both engines' limits on bound parameters per statement.
      if (current.batch.length * current.columns.length >= 10_000) await flush();
    }
    await flush();
    if (current) counts.push({ table: current.table, rows: current.rows });
  });
  const { applied: migratedAfter } = await migrateToLatest(handle.db);
  return { header, tables: counts, migratedAfter };
}
