/** Analytics (issue #20): rollups written by the usage writer, the analytics API, saved views, the prune job. */
export { backfillRollups } from './backfill.js';
export { AnalyticsRepository } from './repository.js';
export { HOUR_RETENTION_DAYS, MINUTE_RETENTION_DAYS, PRUNE_JOB, registerAnalyticsJobs } from './retention.js';
export { analyticsRoutes } from './routes.js';
export { AnalyticsService } from './service.js';
