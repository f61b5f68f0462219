import type { AuditRecord } from '../../src/modules/audit/service.js';
import { type Call, type CallOptions, type CallResult, client, type TestApp } from './app.js';

/** The master key every harness starts the app with: long enough for loadConfig (≥ 16 characters). */
export const MASTER_KEY = 'mk-test-master-key-0123456789';

/** Unique emails per test: `uniqueEmail('login')` → `login-3-k2x9@aihub.test`. */
let counter = 0;
export function uniqueEmail(tag: string): string {
  counter += 1;
  return `${tag}-${counter}-${Math.random().toString(36).slice(2, 6)}@aihub.test`;
}

/**
 * The support client, but every answer (body and Set-Cookie) is also appended to `seen`, so a test can
 * assert that no response of the whole file leaked a secret.
 */
export function recordingClient(base: string, seen: string[]): Call {
  const call = client(base);
  return async function recorded<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: CallOptions = {},
  ): Promise<CallResult<T>> {
    const res = await call<T>(method, path, options);
    seen.push(`${method} ${path} ${res.status} ${JSON.stringify(res.body)} ${res.headers.getSetCookie().join('; ')}`);
    return res;
  } as Call;
}

/**
 * Audit rows matching `action` (exact, or a prefix ending in `*`), newest first, straight from the service:
 * every organization's unless `scope` names one.
 */
export function auditRows(
  t: TestApp,
  query: { action?: string; actorId?: string; targetId?: string } = {},
  scope: { orgId: string; instanceWide: boolean } | null = null,
): Promise<AuditRecord[]> {
  return t.services.audit.list({ ...query, scope, limit: 500 });
}

/** Number of rows in the users table, read directly (to show that hostile input changed nothing). */
export async function countUsers(t: TestApp): Promise<number> {
  const row = await t.database.handle.db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The `error` object of an /api error answer. */
export interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}
