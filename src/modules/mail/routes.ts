import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { bearerSecurity, EpochMs, errorResponses } from '../../http/schemas.js';
import type { Mailer } from './mailer.js';

const OutboxEntrySchema = Type.Object({
  id: Type.String(),
  at: EpochMs,
  kind: Type.Union([
    Type.Literal('verify_email'),
    Type.Literal('password_reset'),
    Type.Literal('invitation'),
    Type.Literal('low_balance'),
    Type.Literal('alert'),
  ]),
  to: Type.String(),
  subject: Type.String(),
  link: Type.Union([Type.String(), Type.Null()], {
    description: 'The link, while it reached nobody by mail (no SMTP, or delivery failed)',
  }),
  status: Type.Union([Type.Literal('logged'), Type.Literal('sending'), Type.Literal('sent'), Type.Literal('failed')]),
  error: Type.Union([Type.String(), Type.Null()]),
});

/** GET /api/admin/mail/outbox: the last messages this instance sent or logged. */
export function mailRoutes({ mailer }: { mailer: Mailer }): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/admin/mail/outbox',
      {
        config: { permission: 'settings.manage' },
        schema: {
          tags: ['admin: mail'],
          summary: 'The last 100 messages of this instance, newest first (links of undelivered ones included)',
          security: bearerSecurity,
          response: {
            200: Type.Object({
              smtpConfigured: Type.Boolean({ description: 'Whether AIHUB_SMTP_URL is set' }),
              data: Type.Array(OutboxEntrySchema),
            }),
            ...errorResponses,
          },
        },
      },
      async () => ({ smtpConfigured: mailer.configured, data: mailer.outbox() }),
    );
  };
}
