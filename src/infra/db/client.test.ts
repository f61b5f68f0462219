import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from './client.js';

describe('openDatabase (SQLite)', () => {
  let dir: string | undefined;
  let handle: DatabaseHandle | undefined;
  afterEach(async () => {
    await handle?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    handle = undefined;
    dir = undefined;
  });

  it('opens a WAL-mode file under the data directory with the settings the server relies on', async () => {
    dir = mkdtempSync(join(tmpdir(), 'aihub-db-'));
    const opened = openDatabase({ url: undefined, dataDir: dir });
    handle = opened;
    expect(handle.engine).toBe('sqlite');
    expect(handle.location).toBe(join(dir, 'aihub.db'));
    const pragma = async (name: string) =>
      Object.values((await sql.raw(`pragma ${name}`).execute(opened.db)).rows[0] as object)[0];
    expect(await pragma('journal_mode')).toBe('wal');
    expect(await pragma('synchronous')).toBe(1); // NORMAL
    expect(await pragma('foreign_keys')).toBe(1);
    expect(await pragma('busy_timeout')).toBe(5000);
    expect(await pragma('temp_store')).toBe(2); // MEMORY: no statement-journal files per usage batch
    await expect(handle.ping()).resolves.toBeUndefined();
  });
});
