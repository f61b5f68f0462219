/**
 * Statements and the revenue report, wired: numbered, immutable monthly documents (CSV and PDF), issued by
 * a job (monthly schedule and "issue now"), and list price vs cost over time for platform admins.
 */
import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { IdGenerator } from '../../core/ids.js';
import type { Database } from '../../infra/db/schema.js';
import { StatementRepository } from './repository.js';
import { StatementService, type StatementSettings } from './service.js';

export { registerStatementJobs, STATEMENTS_JOB, STATEMENTS_SCHEDULE } from './jobs.js';
export { statementRoutes } from './routes.js';
export type { StatementService } from './service.js';

export function createStatements(deps: {
  db: Kysely<Database>;
  clock: Clock;
  newId: IdGenerator;
  settings: () => StatementSettings;
  flush: () => Promise<void>;
}): StatementService {
  return new StatementService({ repo: new StatementRepository(deps.db), ...deps });
}
