import QRCode from 'qrcode';
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { randomSecret, type SecretBox, sha256Hex } from '../../core/secrets.js';
import type { UsersTable } from '../../infra/db/schema.js';
import type { Actor, AuditService } from '../audit/service.js';
import type { Principal } from '../auth/principal.js';
import type { UsersService } from '../users/service.js';
import type { TwoFactorRepository } from './repository.js';
import { newRecoveryCodes, newTotpSecret, otpauthUrl, recoveryCodeHash, verifyTotp } from './totp.js';

/** A sign-in challenge lives five minutes. */
export const CHALLENGE_TTL_MS = 5 * 60_000;
/** Wrong codes one challenge takes before it is spent (the login throttle counts them too). */
const CHALLENGE_MAX_ATTEMPTS = 5;
/** Expired challenges are deleted a day later (until then a late try hears "expired", not "unknown"). */
const CHALLENGE_KEEP_MS = 24 * 3_600_000;

/** Where a request came from, for the audit log. */
export interface RequestContext {
  ip: string | null;
  userAgent: string | null;
}

export interface TwoFactorStatus {
  enabled: boolean;
  enabledAt: number | null;
  recoveryCodesLeft: number;
  /** The organization of this request requires 2FA of its members. */
  required: boolean;
  /** Every organization of the user that requires 2FA. */
  requiredBy: Array<{ id: string; name: string }>;
}

export interface TwoFactorEnrolment {
  secret: string;
  otpauthUrl: string;
  /** The otpauth URI as a PNG QR code (`data:image/png;base64,…`). */
  qrCode: string;
}

/** The second factor a sign-in's second step presents: an authenticator code or a recovery code. */
export type SecondFactor = { code: string } | { recoveryCode: string };

export interface TwoFactorServiceDeps {
  repo: TwoFactorRepository;
  secretBox: SecretBox;
  clock: Clock;
  newId: IdGenerator;
  audit: AuditService;
  users: UsersService;
  /** The name authenticator apps show beside the account. */
  issuer: string;
}

/** Where a user's 2FA requirement does not apply: their own account pages and signing in. */
const EXEMPT_PREFIXES = ['/api/me', '/api/auth/'];

/**
 * TOTP two-factor authentication: enrolment (pending until a first code confirms it), single-use
 * recovery codes, sign-in challenges, an administrator's reset, and the organizations' "require 2FA".
 */
export class TwoFactorService {
  constructor(private readonly deps: TwoFactorServiceDeps) {}

  async status(userId: string, orgId: string | null): Promise<TwoFactorStatus> {
    const row = await this.deps.repo.find(userId);
    const enabled = row?.enabled_at != null;
    const requiredBy = await this.deps.repo.orgsRequiring(userId);
    return {
      enabled,
      enabledAt: row?.enabled_at ?? null,
      recoveryCodesLeft: enabled ? await this.deps.repo.recoveryCodesLeft(userId) : 0,
      required: orgId !== null && requiredBy.some((o) => o.id === orgId),
      requiredBy,
    };
  }

  async isEnabled(userId: string): Promise<boolean> {
    return (await this.deps.repo.find(userId))?.enabled_at != null;
  }

  /** Start enrolment: a new secret, pending until `enable` sees a code made from it. */
  async setup(user: UsersTable): Promise<TwoFactorEnrolment> {
    const secret = newTotpSecret();
    if (!(await this.deps.repo.savePending(user.id, this.deps.secretBox.encrypt(secret), this.deps.clock.now())))
      throw new ApiError('conflict', 'Two-factor authentication is already on; turn it off first to change the device');
    const url = otpauthUrl(secret, user.email, this.deps.issuer);
    return { secret, otpauthUrl: url, qrCode: await QRCode.toDataURL(url, { margin: 1, width: 220 }) };
  }

  /** Confirm enrolment with a first code; returns the recovery codes (shown once). */
  async enable(user: UsersTable, code: string, context: RequestContext): Promise<string[]> {
    const row = await this.deps.repo.find(user.id);
    if (!row) throw new ApiError('conflict', 'Start with POST /api/me/2fa/setup');
    if (row.enabled_at !== null) throw new ApiError('conflict', 'Two-factor authentication is already on');
    const now = this.deps.clock.now();
    const step = await verifyTotp(this.deps.secretBox.decrypt(row.secret), code, now, row.last_used_step);
    if (step === null || !(await this.deps.repo.useStep(user.id, step, now, true)))
      throw new ApiError('invalid_two_factor_code', 'That code is not right; check the time on your device', {
        param: 'code',
      });
    const codes = await this.newRecoveryCodes(user.id);
    await this.audit(user, { type: 'user', id: user.id }, 'auth.2fa_enabled', context);
    return codes;
  }

  /** Turn 2FA off: the password, and the code when given. */
  async disable(user: UsersTable, password: string, code: string | undefined, context: RequestContext): Promise<void> {
    if (!(await this.isEnabled(user.id))) throw new ApiError('conflict', 'Two-factor authentication is not on');
    if (!(await this.deps.users.verifyPassword(user, password)))
      throw new ApiError('invalid_credentials', 'Password is incorrect', { param: 'password' });
    if (code !== undefined && (await this.checkFactor(user.id, { code }, context, user)) === null)
      throw new ApiError('invalid_two_factor_code', 'That code is not right', { param: 'code' });
    await this.deps.repo.remove(user.id);
    await this.audit(user, { type: 'user', id: user.id }, 'auth.2fa_disabled', context);
  }

  /** New recovery codes (the old ones stop working), confirmed with a current code. */
  async regenerateRecoveryCodes(user: UsersTable, code: string, context: RequestContext): Promise<string[]> {
    if (!(await this.isEnabled(user.id))) throw new ApiError('conflict', 'Two-factor authentication is not on');
    if ((await this.checkFactor(user.id, { code }, context, user)) === null)
      throw new ApiError('invalid_two_factor_code', 'That code is not right', { param: 'code' });
    const codes = await this.newRecoveryCodes(user.id);
    await this.audit(user, { type: 'user', id: user.id }, 'auth.recovery_codes_regenerated', context);
    return codes;
  }

  /** An administrator's reset (lost device): the user signs in with the password alone and may enrol again. */
  async reset(user: UsersTable, actor: Actor, context: RequestContext): Promise<void> {
    if (!(await this.deps.repo.remove(user.id)))
      throw new ApiError('conflict', `${user.email} has no two-factor authentication to reset`);
    await this.audit(user, actor, 'auth.2fa_reset', context);
  }

  /**
   * Check a second factor of a user. Returns which kind passed, or null. A TOTP code is accepted once; a
   * recovery code is spent (and audited).
   */
  async checkFactor(
    userId: string,
    factor: SecondFactor,
    context: RequestContext,
    user?: UsersTable,
  ): Promise<'totp' | 'recovery_code' | null> {
    const row = await this.deps.repo.find(userId);
    if (!row || row.enabled_at === null) return null;
    const now = this.deps.clock.now();
    if ('code' in factor) {
      const step = await verifyTotp(this.deps.secretBox.decrypt(row.secret), factor.code, now, row.last_used_step);
      return step !== null && (await this.deps.repo.useStep(userId, step, now)) ? 'totp' : null;
    }
    if (!(await this.deps.repo.useRecoveryCode(userId, recoveryCodeHash(factor.recoveryCode), now))) return null;
    const owner = user ?? (await this.deps.users.get(userId));
    await this.audit(owner, { type: 'user', id: userId }, 'auth.recovery_code_used', context, {
      recoveryCodesLeft: await this.deps.repo.recoveryCodesLeft(userId),
    });
    return 'recovery_code';
  }

  // ---- sign-in challenges

  /** A challenge for the second step of a sign-in (the token is returned once; only its hash is kept). */
  async createChallenge(userId: string): Promise<{ challenge: string; expiresAt: number }> {
    const now = this.deps.clock.now();
    await this.deps.repo.purgeChallenges(now - CHALLENGE_KEEP_MS);
    const challenge = `tfc_${randomSecret(32)}`;
    const expiresAt = now + CHALLENGE_TTL_MS;
    await this.deps.repo.insertChallenge({
      id: this.deps.newId('tfc'),
      token_hash: sha256Hex(challenge),
      user_id: userId,
      created_at: now,
      expires_at: expiresAt,
      used_at: null,
      attempts: 0,
    });
    return { challenge, expiresAt };
  }

  /** The live challenge a token names: its id and user; 401 when unknown, used, expired or worn out. */
  async openChallenge(token: string): Promise<{ id: string; userId: string }> {
    const row = await this.deps.repo.findChallenge(sha256Hex(token));
    if (!row || row.used_at !== null || row.attempts >= CHALLENGE_MAX_ATTEMPTS)
      throw new ApiError('unauthorized', 'This sign-in is no longer valid; sign in again with your password', {
        param: 'challenge',
      });
    if (row.expires_at <= this.deps.clock.now())
      throw new ApiError('unauthorized', 'This sign-in expired (5 minutes); sign in again with your password', {
        param: 'challenge',
      });
    return { id: row.id, userId: row.user_id };
  }

  failChallenge(id: string): Promise<void> {
    return this.deps.repo.failChallenge(id);
  }

  /** Spend a challenge: true once. */
  consumeChallenge(id: string): Promise<boolean> {
    return this.deps.repo.consumeChallenge(id, this.deps.clock.now());
  }

  // ---- the organizations' requirement

  /**
   * Refuse a member of an organization that requires 2FA, who has none, everything but their account pages
   * and signing in (403 `two_factor_required`). The master key is exempt; platform admins are not, in the
   * organizations they belong to.
   */
  async enforce(principal: Principal, url: string): Promise<void> {
    if (principal.kind !== 'user' || principal.orgRole === null) return;
    if (EXEMPT_PREFIXES.some((p) => url === p || url.startsWith(p.endsWith('/') ? p : `${p}/`))) return;
    const { required, enabled } = await this.deps.repo.requirement(principal.orgId, principal.userId);
    if (required && !enabled)
      throw new ApiError(
        'two_factor_required',
        'Your organization requires two-factor authentication: enrol on the console’s Security page (/security), or with POST /api/me/2fa/setup then POST /api/me/2fa/enable',
      );
  }

  private async newRecoveryCodes(userId: string): Promise<string[]> {
    const codes = newRecoveryCodes();
    await this.deps.repo.replaceRecoveryCodes(
      userId,
      codes.map((c) => ({ id: this.deps.newId('rcv'), code_hash: recoveryCodeHash(c) })),
      this.deps.clock.now(),
    );
    return codes;
  }

  private audit(
    user: UsersTable,
    actor: Actor,
    action: string,
    context: RequestContext,
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    return this.deps.audit.record({
      orgId: user.org_id,
      actor,
      action,
      targetType: 'user',
      targetId: user.id,
      ip: context.ip,
      detail: { ...detail, userAgent: context.userAgent, ip: context.ip },
    });
  }
}
