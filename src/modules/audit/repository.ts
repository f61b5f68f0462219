import type { Kysely } from 'kysely';
import type { AuditLogsTable, Database } from '../../infra/db/schema.js';

export interface AuditQuery {
  action?: string | undefined;
  actorId?: string | undefined;
  targetId?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  limit: number;
  /** Return rows older than this id (ids are time-sortable). */
  before?: string | undefined;
}

/** Data access for audit_logs. */
export class AuditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(row: AuditLogsTable): Promise<void> {
    await this.db.insertInto('audit_logs').values(row).execute();
  }

  async list(query: AuditQuery): Promise<AuditLogsTable[]> {
    let q = this.db.selectFrom('audit_logs').selectAll();
    if (query.action)
      q = query.action.endsWith('*')
        ? q.where('action', 'like', `${query.action.slice(0, -1)}%`)
        : q.where('action', '=', query.action);
    if (query.actorId) q = q.where('actor_id', '=', query.actorId);
    if (query.targetId) q = q.where('target_id', '=', query.targetId);
    if (query.from !== undefined) q = q.where('at', '>=', query.from);
    if (query.to !== undefined) q = q.where('at', '<', query.to);
    if (query.before) q = q.where('id', '<', query.before);
    return q.orderBy('id', 'desc').limit(query.limit).execute();
  }
}
