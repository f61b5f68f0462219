import type { Clock } from '../../core/clock.js';
import type { IdGenerator } from '../../core/ids.js';
import type { ActorType, AuditLogsTable } from '../../infra/db/schema.js';
import type { AuditQuery, AuditRepository } from './repository.js';

export interface Actor {
  type: ActorType;
  id: string | null;
}

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null };
export const ANONYMOUS_ACTOR: Actor = { type: 'anonymous', id: null };

export interface AuditEntry {
  actor: Actor;
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
    const rows = await this.repo.list(query);
    return rows.map(toAuditRecord);
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
  };
}
