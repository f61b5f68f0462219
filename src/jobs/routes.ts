import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { bearerSecurity, errorResponses, IdParam } from '../http/schemas.js';
import { principalOf } from '../modules/auth/guard.js';
import {
  JobListQuery,
  JobPage,
  JobSchema,
  ScheduleList,
  ScheduleParams,
  SchedulePatch,
  ScheduleSchema,
} from './schema.js';
import type { Caller, JobsService } from './service.js';

const callerOf = (request: FastifyRequest): Caller => ({ principal: principalOf(request), ip: request.ip });

/**
 * The jobs API. /api/admin/jobs: the organization's jobs (platform admins: and the instance's own), with cancel,
 * retry and delete, and the recurring schedules. /api/jobs: the jobs the caller started (exports, batches).
 */
export function jobRoutes({ jobs }: { jobs: JobsService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    const admin = ['admin: jobs'];
    const mine = ['jobs'];
    const listQuery = (query: JobListQuery) => ({
      type: query.type,
      state: query.state,
      limit: query.limit ?? 50,
      offset: query.offset ?? 0,
    });

    app.get(
      '/api/admin/jobs',
      {
        config: { permission: 'jobs.all' },
        schema: {
          tags: admin,
          summary: 'Jobs of the organization, newest first (platform admins: and the instance’s own)',
          security: bearerSecurity,
          querystring: JobListQuery,
          response: { 200: JobPage, ...errorResponses },
        },
      },
      async (request) => jobs.list(callerOf(request), listQuery(request.query), false),
    );
    app.get(
      '/api/admin/jobs/schedules',
      {
        config: { permission: 'settings.manage' },
        schema: {
          tags: admin,
          summary: 'Recurring schedules (instance-wide) with their next run',
          security: bearerSecurity,
          response: { 200: ScheduleList, ...errorResponses },
        },
      },
      async () => ({ data: await jobs.schedules() }),
    );
    app.patch(
      '/api/admin/jobs/schedules/:name',
      {
        config: { permission: 'settings.manage' },
        schema: {
          tags: admin,
          summary: 'Enable or disable a recurring schedule',
          security: bearerSecurity,
          params: ScheduleParams,
          body: SchedulePatch,
          response: { 200: ScheduleSchema, ...errorResponses },
        },
      },
      async (request) => jobs.setScheduleEnabled(callerOf(request), request.params.name, request.body.enabled),
    );
    app.get(
      '/api/admin/jobs/:id',
      {
        config: { permission: 'jobs.all' },
        schema: {
          tags: admin,
          summary: 'A job: state, progress, attempts, result and error',
          security: bearerSecurity,
          params: IdParam,
          response: { 200: JobSchema, ...errorResponses },
        },
      },
      async (request) => jobs.get(callerOf(request), request.params.id, false),
    );
    for (const action of ['cancel', 'retry'] as const)
      app.post(
        `/api/admin/jobs/:id/${action}`,
        {
          config: { permission: 'jobs.all' },
          schema: {
            tags: admin,
            summary:
              action === 'cancel'
                ? 'Cancel a job: a queued one at once, a running one through its abort signal'
                : 'Run a failed (dead-lettered) or cancelled job again from its first attempt',
            security: bearerSecurity,
            params: IdParam,
            response: { 200: JobSchema, ...errorResponses },
          },
        },
        async (request) =>
          action === 'cancel'
            ? jobs.cancel(callerOf(request), request.params.id, false)
            : jobs.retry(callerOf(request), request.params.id),
      );
    app.delete(
      '/api/admin/jobs/:id',
      {
        config: { permission: 'jobs.all' },
        schema: {
          tags: admin,
          summary: 'Delete a job that is not running',
          security: bearerSecurity,
          params: IdParam,
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        await jobs.remove(callerOf(request), request.params.id);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/jobs',
      {
        config: { permission: 'jobs.read' },
        schema: {
          tags: mine,
          summary: 'Jobs you started in this organization (exports, batches), newest first',
          security: bearerSecurity,
          querystring: JobListQuery,
          response: { 200: JobPage, ...errorResponses },
        },
      },
      async (request) => jobs.list(callerOf(request), listQuery(request.query), true),
    );
    app.get(
      '/api/jobs/:id',
      {
        config: { permission: 'jobs.read' },
        schema: {
          tags: mine,
          summary: 'One of your jobs, with its progress',
          security: bearerSecurity,
          params: IdParam,
          response: { 200: JobSchema, ...errorResponses },
        },
      },
      async (request) => jobs.get(callerOf(request), request.params.id, true),
    );
    app.post(
      '/api/jobs/:id/cancel',
      {
        config: { permission: 'jobs.manage' },
        schema: {
          tags: mine,
          summary: 'Cancel one of your jobs',
          security: bearerSecurity,
          params: IdParam,
          response: { 200: JobSchema, ...errorResponses },
        },
      },
      async (request) => jobs.cancel(callerOf(request), request.params.id, true),
    );
  };
}
