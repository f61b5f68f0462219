import type { Kysely } from 'kysely';
import type { Database, FilesTable } from '../../infra/db/schema.js';

/** Whose files: an organization's, and within it one user's (the keys of that user share them). */
export interface FileOwner {
  orgId: string;
  userId: string | null;
}

/** Data access for the files table; every read is scoped to its owner. */
export class FilesRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: FilesTable): Promise<void> {
    await this.db.insertInto('files').values(row).execute();
  }

  find(owner: FileOwner, id: string): Promise<FilesTable | undefined> {
    let query = this.db.selectFrom('files').selectAll().where('id', '=', id).where('org_id', '=', owner.orgId);
    query = owner.userId === null ? query.where('user_id', 'is', null) : query.where('user_id', '=', owner.userId);
    return query.executeTakeFirst();
  }

  /** A page, newest first (or oldest with `asc`), after the file `after`. */
  async list(
    owner: FileOwner,
    page: { purpose?: string | undefined; limit: number; after?: string | undefined; order: 'asc' | 'desc' },
  ): Promise<FilesTable[]> {
    let query = this.db.selectFrom('files').selectAll().where('org_id', '=', owner.orgId);
    query = owner.userId === null ? query.where('user_id', 'is', null) : query.where('user_id', '=', owner.userId);
    if (page.purpose !== undefined) query = query.where('purpose', '=', page.purpose);
    if (page.after !== undefined) query = query.where('id', page.order === 'desc' ? '<' : '>', page.after);
    return query.orderBy('id', page.order).limit(page.limit).execute();
  }

  async delete(owner: FileOwner, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('files')
      .where('id', '=', id)
      .where('org_id', '=', owner.orgId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
