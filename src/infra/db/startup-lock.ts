import SqliteDatabase from 'better-sqlite3';

/** Lets the next waiting instance in. Safe to call more than once. */
export type ReleaseLock = () => Promise<void>;

/**
 * Key of the PostgreSQL advisory lock held while an instance migrates and seeds (per database, so instances
 * on other databases of the same server do not wait for each other).
 */
const POSTGRES_LOCK = 'aihub:first-start';
/** How often a waiting SQLite process tries the lock again. */
const SQLITE_RETRY_MS = 50;

/**
 * Hold a session-level advisory lock on a connection of its own, outside the pool: the migrations and seeds
 * run on the pool meanwhile. Ending the session releases it, also when the process dies mid-start.
 */
export async function lockPostgres(url: string): Promise<ReleaseLock> {
  const { default: driver } = await import('pg');
  const client = new driver.Client({ connectionString: url });
  client.on('error', () => {
    // The lock's connection broke (the database restarted): the lock is gone; the start's own queries fail.
  });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [POSTGRES_LOCK]);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    await client.end().catch(() => undefined);
  };
}

/**
 * SQLite has no advisory locks, and an exclusive transaction on the database itself would lock out the
 * seeds' own writes; so the lock is an exclusive transaction on a file next to it (`<file>.lock`). Waiting is
 * polled, not SQLite's busy wait, which would block the event loop. The OS drops the lock of a dead process.
 */
export async function lockSqlite(file: string): Promise<ReleaseLock> {
  const lock = new SqliteDatabase(`${file}.lock`, { timeout: 0 });
  for (;;) {
    try {
      lock.exec('BEGIN EXCLUSIVE');
      break;
    } catch (error) {
      if (!(error instanceof SqliteDatabase.SqliteError) || error.code !== 'SQLITE_BUSY') {
        lock.close();
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, SQLITE_RETRY_MS));
    }
  }
  return async () => {
    if (lock.open) lock.close();
  };
}
