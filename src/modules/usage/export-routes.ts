import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ApiError, notFound } from '../../core/errors.js';
import { bearerSecurity, errorResponses, IdParam } from '../../http/schemas.js';
import type { BlobStore } from '../../infra/blobs/index.js';
import { DEFAULT_ORG_ID } from '../../infra/db/migrations/0001_foundation.js';
import { JobSchema } from '../../jobs/schema.js';
import type { JobsService } from '../../jobs/service.js';
import { logReach } from '../access/reach.js';
import { principalOf } from '../auth/guard.js';
import { isAdmin, userIdOf } from '../auth/principal.js';
import { EXPORT_JOB, type ExportResult, exportBlobKey } from './exports.js';
import { LogExportJobBody } from './schema.js';

/**
 * POST /api/logs/exports (start an export of the requests you reach, filtered like the log lists: GET /api/logs's
 * filters, and the admin list's userId and channelId, which narrow what you reach and never widen it),
 * GET /api/logs/exports/{id} (the job and its progress), GET /api/logs/exports/{id}/download (the CSV).
 * An export is its user's: anyone else gets 404.
 */
export function exportRoutes({ jobs, blobs }: { jobs: JobsService; blobs: BlobStore }): FastifyPluginAsyncTypebox {
  return async (app) => {
    const permission = ['logs.own', 'logs.team', 'logs.all'] as const;
    const callerOf = (request: Parameters<typeof principalOf>[0]) => ({
      principal: principalOf(request),
      ip: request.ip,
    });
    const exportJob = async (request: Parameters<typeof principalOf>[0], id: string) => {
      const job = await jobs.get(callerOf(request), id, true).catch(() => undefined);
      if (!job || job.type !== EXPORT_JOB) throw notFound('Export');
      return job;
    };

    app.post(
      '/api/logs/exports',
      {
        config: { permission },
        schema: {
          tags: ['logs'],
          summary: 'Export the requests you reach as a CSV file, produced in the background (a job)',
          security: bearerSecurity,
          body: LogExportJobBody,
          response: { 202: JobSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const userId = userIdOf(principal);
        if (!userId) throw new ApiError('forbidden', 'Exports belong to a user: sign in to start one');
        const { scope, ...filter } = request.body;
        const reach = logReach(principal, scope);
        const query = {
          ...filter,
          orgId: principal.orgId,
          instanceWide: reach.all && isAdmin(principal) && principal.orgId === DEFAULT_ORG_ID,
          within: reach.all ? undefined : { userId: reach.own ? userId : null, teamIds: reach.teams },
        };
        const job = await jobs.enqueueOwn(EXPORT_JOB, { query }, { orgId: principal.orgId, userId });
        return reply.code(202).send(job);
      },
    );

    app.get(
      '/api/logs/exports/:id',
      {
        config: { permission },
        schema: {
          tags: ['logs'],
          summary: 'One of your exports: its state and progress',
          security: bearerSecurity,
          params: IdParam,
          response: { 200: JobSchema, ...errorResponses },
        },
      },
      async (request) => exportJob(request, request.params.id),
    );

    app.get(
      '/api/logs/exports/:id/download',
      {
        config: { permission },
        schema: {
          tags: ['logs'],
          summary: 'Download a finished export (CSV)',
          security: bearerSecurity,
          params: IdParam,
          response: { 200: Type.String({ description: 'CSV' }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const job = await exportJob(request, request.params.id);
        if (job.state !== 'succeeded')
          throw new ApiError('conflict', `Export ${job.id} is ${job.state}: download it once it has succeeded`);
        const stream = await blobs.read(exportBlobKey(job.id));
        if (!stream) throw new ApiError('not_found', `The file of export ${job.id} is gone`);
        const result = job.result as ExportResult;
        reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${result.filename}"`);
        return reply.send(stream);
      },
    );
  };
}
