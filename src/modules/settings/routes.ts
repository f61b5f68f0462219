import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { bearerSecurity, errorResponses } from '../../http/schemas.js';
import type { AuditService } from '../audit/service.js';
import { actorOf } from '../auth/principal.js';
import { PublicSettingsSchema, SettingsPatch, SettingsSchema } from './schema.js';
import type { SettingsService } from './service.js';

/** /api/admin/settings and the public /api/settings/public the sign-in page reads. */
export function settingsRoutes({
  settings,
  audit,
  countAdmins,
}: {
  settings: SettingsService;
  audit: AuditService;
  /** Active admins (the sign-in page invites the first visitor to create the admin account). */
  countAdmins: () => Promise<number>;
}): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/settings/public',
      {
        config: { permission: 'public' },
        schema: {
          tags: ['settings'],
          summary: 'Settings the sign-in page needs (no auth)',
          response: { 200: PublicSettingsSchema },
        },
      },
      async () => ({
        registrationEnabled: settings.get().registrationEnabled,
        allowSelfServeOrganizations: settings.get().allowSelfServeOrganizations && settings.get().registrationEnabled,
        firstAccountIsAdmin: (await countAdmins()) === 0,
        emailVerificationRequired: settings.get().emailVerificationRequired,
      }),
    );

    app.get(
      '/api/admin/settings',
      {
        config: { permission: 'settings.manage' },
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
        config: { permission: 'settings.manage' },
        schema: {
          tags: ['admin: settings'],
          summary: 'Change instance settings',
          security: bearerSecurity,
          body: SettingsPatch,
          response: { 200: SettingsSchema, ...errorResponses },
        },
      },
      async (request) => {
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
