import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { bearerSecurity, errorResponses } from '../../http/schemas.js';
import { AuditPage, AuditQuery } from './schema.js';
import type { AuditService } from './service.js';

/** GET /api/admin/audit: who did what, newest first, with filters and cursor pagination. */
export function auditRoutes({ audit }: { audit: AuditService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/admin/audit',
      {
        config: { permission: 'audit.read' },
        schema: {
          tags: ['admin: audit'],
          summary: 'Audit log (admin and security actions)',
          security: bearerSecurity,
          querystring: AuditQuery,
          response: {
            200: AuditPage,
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const limit = request.query.limit ?? 100;
        const data = await audit.list({ ...request.query, limit });
        return { data, nextCursor: data.length === limit ? (data[data.length - 1]?.id ?? null) : null };
      },
    );
  };
}
