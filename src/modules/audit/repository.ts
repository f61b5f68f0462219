import type { Kysely } from 'kysely';
import type { AuditLogsTable, Database } from '../../infra/db/schema.js';

export interface AuditQuery {
  /**
   * Whose rows: one organization's (and, with `instanceWide`, those of none: instance-wide actions), or
   * explicitly `null` for every row (the CLI and tests).
   */
  scope: { orgId: string; instanceWide: boolean } | null;
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
    const scope = query.scope;
    if (scope)
      q = q.where((eb) =>
        scope.instanceWide
          ? eb.or([eb('org_id', '=', scope.orgId), eb('org_id', 'is', null)])
          : eb('org_id', '=', scope.orgId),
      );
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

  /**
   * Display names of the users, keys, channels, models, teams and IP rules a page of records names, one query
   * per kind with ids on the page (deleted ones are simply missing).
   */
  async names(ids: Record<NamedKind, string[]>): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const put = (rows: Array<{ id: string; name: string }>) => {
      for (const row of rows) out.set(row.id, row.name);
    };
    const of = (kind: NamedKind) => [...new Set(ids[kind])];
    const tasks: Array<Promise<void>> = [];
    if (ids.user.length)
      tasks.push(
        this.db.selectFrom('users').select(['id', 'email as name']).where('id', 'in', of('user')).execute().then(put),
      );
    for (const [kind, table] of [
      ['api_key', 'api_keys'],
      ['channel', 'channels'],
      ['model', 'models'],
      ['team', 'teams'],
    ] as const) {
      if (ids[kind].length)
        tasks.push(this.db.selectFrom(table).select(['id', 'name']).where('id', 'in', of(kind)).execute().then(put));
    }
    if (ids.ip_rule.length)
      tasks.push(
        this.db
          .selectFrom('ip_rules')
          .select(['id', 'cidr as name'])
          .where('id', 'in', of('ip_rule'))
          .execute()
          .then(put),
      );
    await Promise.all(tasks);
    return out;
  }
}

/** Kinds of audit targets (and actors) that have a name to show instead of an id. */
export const NAMED_KINDS = ['user', 'api_key', 'channel', 'model', 'team', 'ip_rule'] as const;
export type NamedKind = (typeof NAMED_KINDS)[number];
