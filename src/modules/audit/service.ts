import type { Clock } from '../../core/clock.js';
import type { IdGenerator } from '../../core/ids.js';
import type { ActorType, AuditLogsTable } from '../../infra/db/schema.js';
import { type AuditQuery, type AuditRepository, NAMED_KINDS, type NamedKind } from './repository.js';

export interface Actor {
  type: ActorType;
  id: string | null;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null };
export const ANONYMOUS_ACTOR: Actor = { type: 'anonymous', id: null };

export interface AuditEntry {
  actor: Actor;
  /** The organization the action concerns; omit (null) for instance-wide actions. */
  orgId?: string | null;
  action: string;
  targetType?: string;
  targetId?: string | null;
  ip?: string | null;
  /** Details worth keeping; never put secrets here. */
  detail?: Record<string, unknown>;
}

export interface AuditRecord {
  id: string;
  at: number;
  actorType: ActorType;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  detail: Record<string, unknown> | null;
  /** The actor's email (user actors), when the user still exists. */
  actorName: string | null;
  /** The target's name (email for users, CIDR for IP rules), when it still exists. */
  targetName: string | null;
}

/** Records admin and security actions (who did what to what, from where, when). */
export class AuditService {
  constructor(
    private readonly repo: AuditRepository,
    private readonly clock: Clock,
    private readonly newId: IdGenerator,
  ) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.repo.insert({
      id: this.newId('aud'),
      at: this.clock.now(),
      org_id: entry.orgId ?? null,
      actor_type: entry.actor.type,
      actor_id: entry.actor.id,
      action: entry.action,
      target_type: entry.targetType ?? null,
      target_id: entry.targetId ?? null,
      ip: entry.ip ?? null,
      detail: entry.detail ? JSON.stringify(entry.detail) : null,
    });
  }

  async list(query: AuditQuery): Promise<AuditRecord[]> {
    const records = (await this.repo.list(query)).map(toAuditRecord);
    // The console shows names, not ids: resolve the ids on this page (an admin page, not the hot path).
    const ids = Object.fromEntries(NAMED_KINDS.map((k) => [k, [] as string[]])) as Record<NamedKind, string[]>;
    const named = (type: string | null): type is NamedKind => (NAMED_KINDS as readonly string[]).includes(type ?? '');
    for (const r of records) {
      if (r.actorType === 'user' && r.actorId) ids.user.push(r.actorId);
      if (named(r.targetType) && r.targetId) ids[r.targetType].push(r.targetId);
    }
    if (records.length === 0) return records;
    const names = await this.repo.names(ids);
    return records.map((r) => ({
      ...r,
      actorName: r.actorType === 'user' && r.actorId ? (names.get(r.actorId) ?? null) : null,
      targetName: named(r.targetType) && r.targetId ? (names.get(r.targetId) ?? null) : null,
    }));
  }
}

function toAuditRecord(row: AuditLogsTable): AuditRecord {
  return {
    id: row.id,
    at: row.at,
    actorType: row.actor_type,
    actorId: row.actor_id,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    ip: row.ip,
    detail: row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : null,
    actorName: null,
    targetName: null,
  };
}
