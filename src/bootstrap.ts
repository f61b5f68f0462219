import type { FastifyBaseLogger } from 'fastify';
import { SYSTEM_ACTOR } from './modules/audit/service.js';
import type { Services } from './services.js';

/** Create the first admin from AIHUB_ADMIN_EMAIL/AIHUB_ADMIN_PASSWORD when the instance has none. */
export async function ensureFirstAdmin(services: Services, log: FastifyBaseLogger): Promise<void> {
  const { config, users, audit } = services;
  if ((await users.countActiveAdmins()) > 0) return;
  if (!config.adminEmail || !config.adminPassword) {
    log.warn(
      'No admin account yet: the first account registered becomes the admin. Set AIHUB_ADMIN_EMAIL and AIHUB_ADMIN_PASSWORD, or run `npx aihub user create --admin`, to choose it yourself.',
    );
    return;
  }
  const existing = await users.findByEmail(config.adminEmail);
  const admin = existing
    ? await users.update(existing.id, { role: 'admin', status: 'active' })
    : await users.create({ email: config.adminEmail, password: config.adminPassword, name: 'Admin', role: 'admin' });
  await audit.record({
    orgId: admin.org_id,
    actor: SYSTEM_ACTOR,
    action: existing ? 'user.promote_admin' : 'user.create_admin',
    targetType: 'user',
    targetId: admin.id,
    detail: { email: admin.email, source: 'AIHUB_ADMIN_EMAIL' },
  });
  log.info({ email: admin.email }, 'first admin ready');
}
