import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../../core/errors.js';
import { bearerSecurity, EpochMs, errorResponses } from '../../http/schemas.js';
import { type Guards, principalOf } from '../auth/guard.js';
import type { LogsService } from './logs.js';

const LogEntrySchema = Type.Object({
  id: Type.String(),
  at: EpochMs,
  userId: Type.Union([Type.String(), Type.Null()]),
  keyId: Type.Union([Type.String(), Type.Null()]),
  orgId: Type.Union([Type.String(), Type.Null()]),
  teamId: Type.Union([Type.String(), Type.Null()]),
  channelId: Type.Union([Type.String(), Type.Null()]),
  model: Type.String(),
  upstreamModel: Type.Union([Type.String(), Type.Null()]),
  endpoint: Type.String(),
  stream: Type.Boolean(),
  status: Type.Integer(),
  errorCode: Type.Union([Type.String(), Type.Null()]),
  promptTokens: Type.Integer(),
  completionTokens: Type.Integer(),
  cachedTokens: Type.Integer(),
  reasoningTokens: Type.Integer(),
  estimated: Type.Boolean(),
  costMicros: Type.Integer({ description: 'Cost in micro-USD (1 USD = 1,000,000)' }),
  latencyMs: Type.Integer(),
  ttftMs: Type.Union([Type.Integer(), Type.Null()]),
  clientIp: Type.Union([Type.String(), Type.Null()]),
  attempts: Type.Array(
    Type.Object({
      channelId: Type.String(),
      status: Type.Integer({ description: "The gateway's status for this failure (e.g. 502 for an upstream 500)" }),
      upstreamStatus: Type.Union([Type.Integer(), Type.Null()], {
        description: "The upstream's HTTP status; null when it answered none (unreachable, timed out)",
      }),
      error: Type.String(),
      ms: Type.Integer(),
    }),
  ),
  hasBodies: Type.Boolean({ description: 'Whether the log kept the request and response bodies (setting logBodies)' }),
});
const LogDetailSchema = Type.Composite([
  LogEntrySchema,
  Type.Object({
    requestBody: Type.Union([Type.String(), Type.Null()], {
      description: "The client's request body as logged (JSON text, cut at logBodyMaxChars), or null",
    }),
    responseBody: Type.Union([Type.String(), Type.Null()], {
      description: 'The answer as sent (JSON, or the SSE text of a stream; cut at logBodyMaxChars), or null',
    }),
  }),
]);
const LogId = Type.Object({ id: Type.String({ maxLength: 64 }) });

const Filters = {
  from: Type.Optional(EpochMs),
  to: Type.Optional(EpochMs),
  keyId: Type.Optional(Type.String({ maxLength: 64 })),
  model: Type.Optional(Type.String({ maxLength: 256 })),
  status: Type.Optional(
    Type.String({ pattern: '^(success|error|\\d{3})$', description: 'success, error, or an HTTP status' }),
  ),
  before: Type.Optional(
    Type.String({ maxLength: 64, description: 'Cursor: the id of the last row of the previous page' }),
  ),
};
const AdminFilters = {
  ...Filters,
  userId: Type.Optional(Type.String({ maxLength: 64 })),
  channelId: Type.Optional(Type.String({ maxLength: 64 })),
};
const Limit = { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })) };
const LogPage = Type.Object({ data: Type.Array(LogEntrySchema), nextCursor: Type.Union([Type.String(), Type.Null()]) });

/** GET /api/logs (your requests), GET /api/admin/logs (everyone's), and their CSV exports. */
export function logRoutes({ logs, guards }: { logs: LogsService; guards: Guards }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/logs',
      {
        onRequest: guards.user,
        schema: {
          tags: ['logs'],
          summary: 'Your requests, newest first',
          security: bearerSecurity,
          querystring: Type.Object({ ...Filters, ...Limit }),
          response: { 200: LogPage, ...errorResponses },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const limit = request.query.limit ?? 50;
        const userId = principal.kind === 'user' ? principal.userId : '-';
        const data = await logs.list({ ...request.query, userId, limit });
        return { data, nextCursor: data.length === limit ? (data[data.length - 1]?.id ?? null) : null };
      },
    );

    app.get(
      '/api/admin/logs',
      {
        onRequest: guards.admin,
        schema: {
          tags: ['admin: logs'],
          summary: 'All requests, newest first',
          security: bearerSecurity,
          querystring: Type.Object({ ...AdminFilters, ...Limit }),
          response: { 200: LogPage, ...errorResponses },
        },
      },
      async (request) => {
        const limit = request.query.limit ?? 50;
        const data = await logs.list({ ...request.query, limit });
        return { data, nextCursor: data.length === limit ? (data[data.length - 1]?.id ?? null) : null };
      },
    );

    app.get(
      '/api/logs/:id',
      {
        onRequest: guards.user,
        schema: {
          tags: ['logs'],
          summary: 'One of your requests, with its bodies if the log kept them',
          security: bearerSecurity,
          params: LogId,
          response: { 200: LogDetailSchema, ...errorResponses },
        },
      },
      async (request) => {
        const principal = principalOf(request);
        const userId = principal.kind === 'user' ? principal.userId : '-';
        const entry = await logs.get(request.params.id, userId);
        if (!entry) throw new ApiError('not_found', 'No such request in your log');
        return entry;
      },
    );

    app.get(
      '/api/admin/logs/:id',
      {
        onRequest: guards.admin,
        schema: {
          tags: ['admin: logs'],
          summary: 'One request, with its bodies if the log kept them',
          security: bearerSecurity,
          params: LogId,
          response: { 200: LogDetailSchema, ...errorResponses },
        },
      },
      async (request) => {
        const entry = await logs.get(request.params.id);
        if (!entry) throw new ApiError('not_found', 'No such request in the log');
        return entry;
      },
    );

    app.get(
      '/api/logs/export.csv',
      {
        onRequest: guards.user,
        schema: {
          tags: ['logs'],
          summary: 'Your requests as CSV (streamed)',
          security: bearerSecurity,
          querystring: Type.Object(Filters),
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const userId = principal.kind === 'user' ? principal.userId : '-';
        reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="aihub-logs.csv"');
        return reply.send(Readable.from(logs.csv({ ...request.query, userId })));
      },
    );

    app.get(
      '/api/admin/logs/export.csv',
      {
        onRequest: guards.admin,
        schema: {
          tags: ['admin: logs'],
          summary: 'All requests as CSV (streamed)',
          security: bearerSecurity,
          querystring: Type.Object(AdminFilters),
        },
      },
      async (request, reply) => {
        reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="aihub-logs.csv"');
        return reply.send(Readable.from(logs.csv(request.query)));
      },
    );
  };
}
