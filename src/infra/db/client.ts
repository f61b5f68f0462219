import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  type DialectAdapter,
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  type SqliteDialectConfig,
  sql,
} from 'kysely';
import type pg from 'pg';
import type { Database } from './schema.js';
import { lockPostgres, lockSqlite, type ReleaseLock } from './startup-lock.js';

export type Engine = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  engine: Engine;
  /** Where the data lives, for logs (no credentials). */
  location: string;
  ping(): Promise<void>;
  /**
   * Wait for, then take, the lock that makes one instance at a time migrate and seed a database: several
   * instances (or processes on one SQLite file) may start together.
   */
  lockStartup(): Promise<ReleaseLock>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres://… or sqlite:/path; undefined → `<dataDir>/aihub.db`. */
  url: string | undefined;
  dataDir: string;
  /** Max PostgreSQL connections. */
  poolSize?: number;
}

/** Open the configured database: PostgreSQL for postgres:// URLs, otherwise an SQLite file in WAL mode. */
export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  const url = options.url;
  if (url && /^postgres(ql)?:\/\//.test(url)) return openPostgres(url, options.poolSize ?? 10);
  const file = url?.startsWith('sqlite:') ? resolve(url.slice('sqlite:'.length)) : resolve(options.dataDir, 'aihub.db');
  return openSqlite(file);
}

function openSqlite(file: string): DatabaseHandle {
  mkdirSync(dirname(file), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // Statement journals (a multi-row insert inside the usage writer's transaction opens one) and temporary
  // tables in memory rather than in files created and unlinked per statement: a third of the usage
  // writer's write syscalls and ~10 % of its CPU per row (measured).
  sqlite.pragma('temp_store = MEMORY');
  const db = new Kysely<Database>({
    dialect: new TransactionalDdlSqliteDialect({ database: withStatementCache(sqlite) }),
  });
  return {
    db,
    engine: 'sqlite',
    location: file,
    ping: async () => {
      sqlite.prepare('select 1').get();
    },
    lockStartup: () => lockSqlite(file),
    close: () => db.destroy(),
  };
}

/**
 * SQLite runs schema changes inside transactions, but Kysely's adapter says it does not, so its migrator would
 * apply each migration's statements one by one: a migration that failed half-way left a schema neither version
 * can use. Saying so lets the migrator run all pending migrations in one transaction, as on PostgreSQL.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class TransactionalDdlSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

/** Prepared statements kept for reuse; queries are built from a fixed set of shapes, so few are ever needed. */
const STATEMENT_CACHE_SIZE = 100;

/**
 * Kysely prepares every query it runs; a better-sqlite3 statement can be run again with new parameters, so
 * the most recently used ones are kept (least recently used dropped beyond a bound) and the SQL text of a
 * repeated query (the usage writer's inserts, the limits' sums) is compiled by SQLite only once. Safe on the
 * one SQLite connection: Kysely runs one query at a time on it, and a statement is never run twice at once.
 */
function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDialectConfig['database'] {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare: (sql: string) => {
      let statement = statements.get(sql);
      if (statement) {
        statements.delete(sql);
      } else {
        statement = sqlite.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

function openPostgres(url: string, poolSize: number): DatabaseHandle {
  // The driver is loaded when the first query needs the pool: an SQLite deployment never pays its memory.
  const pool = async (): Promise<pg.Pool> => {
    const { default: driver } = await import('pg');
    // Our bigints (epoch ms, micro-USD) fit in a double; read them as numbers, not strings.
    const types = {
      getTypeParser: (oid: number, format?: 'text' | 'binary') => {
        if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
        return driver.types.getTypeParser(oid, format);
      },
    };
    const created = new driver.Pool({ connectionString: url, max: poolSize, types: types as pg.CustomTypesConfig });
    created.on('error', () => {
      // An idle client lost its connection; the pool replaces it. Queries report their own errors.
    });
    return created;
  };
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const parsed = new URL(url);
  return {
    db,
    engine: 'postgres',
    location: `postgres://${parsed.host}${parsed.pathname}`,
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    lockStartup: () => lockPostgres(url),
    close: () => db.destroy(),
  };
}
