import { describe, expect, it } from 'vitest';
import { ApiError } from '../../core/errors.js';
import { SecretBox } from '../../core/secrets.js';
import type { AuditService } from '../audit/service.js';
import type { Principal, UserPrincipal } from '../auth/principal.js';
import type { UsersService } from '../users/service.js';
import type { TwoFactorRepository } from './repository.js';
import { TwoFactorService } from './service.js';

/** The service over a repository that only answers the organization requirement. */
function serviceWith(requirement: { required: boolean; enabled: boolean }): TwoFactorService {
  const repo = { requirement: async () => requirement } as unknown as TwoFactorRepository;
  return new TwoFactorService({
    repo,
    secretBox: new SecretBox(Buffer.alloc(32, 1)),
    clock: { now: () => 0 },
    newId: (p) => `${p}_1`,
    audit: {} as AuditService,
    users: {} as UsersService,
    issuer: 'AI Hub',
  });
}

const member: UserPrincipal = {
  kind: 'user',
  userId: 'usr_1',
  email: 'a@b.io',
  role: 'user',
  orgId: 'org_1',
  orgRole: 'developer',
  permissions: new Set(),
  teams: new Map(),
};

async function refusal(promise: Promise<void>): Promise<string | null> {
  try {
    await promise;
    return null;
  } catch (error) {
    return error instanceof ApiError ? error.code : 'other';
  }
}

describe('the organization’s 2FA requirement', () => {
  const required = serviceWith({ required: true, enabled: false });

  it('refuses a member without 2FA everything but their account and signing in', async () => {
    for (const url of ['/api/keys', '/api/org', '/api/meetings', '/api/admin/users/:id'])
      expect(await refusal(required.enforce(member, url)), url).toBe('two_factor_required');
    for (const url of ['/api/me', '/api/me/2fa', '/api/me/2fa/setup', '/api/me/sessions/:id', '/api/auth/logout'])
      expect(await refusal(required.enforce(member, url)), url).toBeNull();
  });

  it('lets members with 2FA, members of organizations without the rule, non-members and the master key through', async () => {
    expect(await refusal(serviceWith({ required: true, enabled: true }).enforce(member, '/api/keys'))).toBeNull();
    expect(await refusal(serviceWith({ required: false, enabled: false }).enforce(member, '/api/keys'))).toBeNull();
    const visitingAdmin: Principal = { ...member, role: 'admin', orgRole: null };
    expect(await refusal(required.enforce(visitingAdmin, '/api/keys'))).toBeNull();
    const masterKey: Principal = { kind: 'master_key', orgId: 'org_1', permissions: new Set() };
    expect(await refusal(required.enforce(masterKey, '/api/keys'))).toBeNull();
    // A platform admin who is a member is held to the rule.
    expect(await refusal(required.enforce({ ...member, role: 'admin', orgRole: 'owner' }, '/api/keys'))).toBe(
      'two_factor_required',
    );
  });
});
