import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { bearerSecurity, errorResponses } from '../../http/schemas.js';
import { principalOf } from '../auth/guard.js';
import { isAdmin } from '../auth/principal.js';
import { AuditPage, AuditQuery } from './schema.js';
import type { AuditService } from './service.js';

/** GET /api/admin/audit: who did what in the current organization, newest first, with filters and cursor pagination. */
export function auditRoutes({ audit }: { audit: AuditService }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/admin/audit',
      {
        config: { permission: 'audit.read' },
        schema: {
          tags: ['admin: audit'],
          summary:
            "Audit log of the current organization (platform admins: and the instance's own actions), newest first",
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
        const principal = principalOf(request);
        // The current organization's rows; platform admins also see instance-wide ones (channels, settings…).
        const scope = { orgId: principal.orgId, instanceWide: isAdmin(principal) };
        const data = await audit.list({ ...request.query, scope, limit });
        return { data, nextCursor: data.length === limit ? (data[data.length - 1]?.id ?? null) : null };
      },
    );
  };
}
