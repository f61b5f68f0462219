import { type Kysely, sql } from 'kysely';

/**
 * Most requests belong to no team: index only the rows that do. Every usage row used to add a NULL entry to
 * this b-tree (one of seven written per row); queries filter on `team_id = ?`, which implies NOT NULL, so
 * SQLite and PostgreSQL both still use the partial index.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('request_logs_team_at_idx').execute();
  await db.schema
    .createIndex('request_logs_team_at_idx')
    .on('request_logs')
    .columns(['team_id', 'at'])
    .where(sql.ref('team_id'), 'is not', null)
    .execute();
}
