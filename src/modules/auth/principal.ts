import type { UserRole } from '../../infra/db/schema.js';
import type { Actor } from '../audit/service.js';

/** Who is calling the control plane. */
export type Principal =
  | { kind: 'user'; userId: string; role: UserRole; orgId: string; email: string }
  | { kind: 'master_key' };

export function isAdmin(principal: Principal): boolean {
  return principal.kind === 'master_key' || principal.role === 'admin';
}

export function actorOf(principal: Principal | null): Actor {
  if (!principal) return { type: 'anonymous', id: null };
  return principal.kind === 'master_key' ? { type: 'master_key', id: null } : { type: 'user', id: principal.userId };
}
