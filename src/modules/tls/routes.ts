import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { bearerSecurity, errorResponses } from '../../http/schemas.js';
import { type CertificateStatus, CertificateStatusSchema } from './schema.js';

/** GET /api/admin/tls: the certificate's source, issuer, expiry, last renewal and last error. */
export function tlsRoutes({ status }: { status: () => CertificateStatus }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/admin/tls',
      {
        config: { permission: 'settings.manage' },
        schema: {
          tags: ['admin: settings'],
          summary: 'The HTTPS certificate: source, issuer, expiry, ACME renewal state',
          security: bearerSecurity,
          response: { 200: CertificateStatusSchema, ...errorResponses },
        },
      },
      async () => status(),
    );
  };
}
