import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../../core/errors.js';
import { bearerSecurity, errorResponses } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import type { Guards } from '../auth/guard.js';
import { actorOf } from '../auth/principal.js';
import { isValidTimeZone } from '../limits/periods.js';
import { LimitPolicyPatch } from '../limits/schema.js';
import type { SettingsService } from './service.js';

const SettingsSchema = Type.Object({
  registrationEnabled: Type.Boolean({ description: 'Whether anyone may create an account' }),
  routingStrategy: Type.Union(
    [
      Type.Literal('weighted'),
      Type.Literal('round_robin'),
      Type.Literal('lowest_latency'),
      Type.Literal('least_inflight'),
    ],
    {
      description: 'Default routing strategy inside a priority group',
    },
  ),
  maxAttempts: Type.Integer({
    minimum: 1,
    maximum: 10,
    description: 'Most upstream attempts per request, failover included',
  }),
  breakerFailureThreshold: Type.Integer({
    minimum: 1,
    maximum: 1000,
    description: 'Failures within a minute that open a circuit breaker',
  }),
  breakerCooldownSeconds: Type.Integer({
    minimum: 1,
    maximum: 3600,
    description: 'Seconds an open breaker waits before a trial request',
  }),
  healthCheckIntervalSeconds: Type.Integer({
    minimum: 0,
    maximum: 86_400,
    description: 'Seconds between channel health probes; 0 = off',
  }),
  autoReenableChannels: Type.Boolean({
    description: 'Re-enable automatically disabled channels when their health check passes',
  }),
  exposeChannelHeader: Type.Boolean({ description: 'Send x-aihub-channel (the serving channel id) on /v1 answers' }),
  limitsTimeZone: Type.String({
    minLength: 1,
    maxLength: 64,
    description: 'IANA time zone where budget periods start, e.g. UTC or Asia/Shanghai',
  }),
  defaultUserLimits: LimitPolicyPatch,
  defaultKeyLimits: LimitPolicyPatch,
  logRetentionDays: Type.Integer({
    minimum: 0,
    maximum: 3650,
    description: 'Delete request-log rows older than this many days (checked hourly); 0 = keep forever',
  }),
  logBodies: Type.Union([Type.Literal('off'), Type.Literal('errors'), Type.Literal('all')], {
    description: 'Keep /v1 request and response bodies in the request log: off, errors (failed requests only) or all',
  }),
  logBodyMaxChars: Type.Integer({
    minimum: 256,
    maximum: 1_000_000,
    description: 'Longest request or response body kept in the log, in characters (the rest is cut off)',
  }),
});
const PublicSettingsSchema = Type.Object({
  registrationEnabled: Type.Boolean(),
  firstAccountIsAdmin: Type.Boolean({ description: 'No admin yet: the next account registered becomes the admin' }),
});

/** /api/admin/settings and the public /api/settings/public the sign-in page reads. */
export function settingsRoutes({
  settings,
  audit,
  guards,
  countAdmins,
}: {
  settings: SettingsService;
  audit: AuditService;
  guards: Guards;
  /** Active admins (the sign-in page invites the first visitor to create the admin account). */
  countAdmins: () => Promise<number>;
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/settings/public',
      {
        schema: {
          tags: ['settings'],
          summary: 'Settings the sign-in page needs (no auth)',
          response: { 200: PublicSettingsSchema },
        },
      },
      async () => ({
        registrationEnabled: settings.get().registrationEnabled,
        firstAccountIsAdmin: (await countAdmins()) === 0,
      }),
    );

    app.get(
      '/api/admin/settings',
      {
        onRequest: guards.admin,
        schema: {
          tags: ['admin: settings'],
          summary: 'Instance settings',
          security: bearerSecurity,
          response: { 200: SettingsSchema, ...errorResponses },
        },
      },
      async () => settings.get(),
    );

    app.patch(
      '/api/admin/settings',
      {
        onRequest: guards.admin,
        schema: {
          tags: ['admin: settings'],
          summary: 'Change instance settings',
          security: bearerSecurity,
          body: Type.Partial(SettingsSchema, { additionalProperties: false, minProperties: 1 }),
          response: { 200: SettingsSchema, ...errorResponses },
        },
      },
      async (request) => {
        if (request.body.limitsTimeZone !== undefined && !isValidTimeZone(request.body.limitsTimeZone)) {
          throw new ApiError(
            'validation_failed',
            `limitsTimeZone "${request.body.limitsTimeZone}" is not an IANA time zone`,
            { param: 'limitsTimeZone' },
          );
        }
        const updated = await settings.update(request.body);
        await audit.record({
          actor: actorOf(request.principal),
          action: 'settings.update',
          targetType: 'settings',
          ip: request.ip,
          detail: request.body,
        });
        return updated;
      },
    );
  };
}
