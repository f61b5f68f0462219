import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { randomSecret, sha256Hex } from '../../core/secrets.js';
import type { EmailTokenPurpose, EmailTokensTable, UsersTable } from '../../infra/db/schema.js';
import type { AuditService } from '../audit/service.js';
import type { Principal } from '../auth/principal.js';
import type { LoginThrottle } from '../auth/throttle.js';
import type { Mailer } from '../mail/mailer.js';
import { passwordResetMessage, verifyEmailMessage } from '../mail/templates.js';
import type { UsersService } from '../users/service.js';
import type { EmailTokensRepository } from './repository.js';

/** How long a verification link works. */
export const VERIFY_TTL_MS = 24 * 3_600_000;
/** How long a password-reset link works (once). */
export const RESET_TTL_MS = 30 * 60_000;
/** Tokens are kept a week past their expiry (to say "expired" rather than "invalid"), then purged. */
const KEEP_EXPIRED_MS = 7 * 86_400_000;

export interface EmailAuthDeps {
  repo: EmailTokensRepository;
  users: UsersService;
  mailer: Mailer;
  audit: AuditService;
  /** Counts reset and verification requests per IP and per address. */
  throttle: LoginThrottle;
  clock: Clock;
  newId: IdGenerator;
}

/** Email verification and password reset by emailed single-use links. */
export class EmailAuthService {
  constructor(private readonly deps: EmailAuthDeps) {}

  /** Email a verification link to a user (on sign-up, and on request). */
  async sendVerification(user: UsersTable, origin: string): Promise<void> {
    const token = await this.issue('verify_email', user, VERIFY_TTL_MS);
    const link = `${origin}/verify-email?token=${encodeURIComponent(token)}`;
    this.deps.mailer.send(verifyEmailMessage(user.email, link, VERIFY_TTL_MS / 3_600_000));
  }

  /** The signed-in user asks for a new verification link. */
  async resendVerification(principal: Principal, origin: string, ip: string | null): Promise<void> {
    if (principal.kind !== 'user') throw new ApiError('bad_request', 'The master key has no email address');
    const user = await this.deps.users.get(principal.userId);
    if (user.email_verified_at !== null)
      throw new ApiError('conflict', `${user.email} is already verified`, { param: 'email' });
    await this.count(ip, user.email);
    await this.sendVerification(user, origin);
  }

  /** Mark the address of a verification link verified. */
  async verify(token: string, ip: string | null): Promise<UsersTable> {
    const row = await this.use('verify_email', token);
    const now = this.deps.clock.now();
    if (!(await this.deps.repo.markVerified(row.user_id, row.email, now)))
      throw new ApiError('invalid_token', 'This link is for an address the account no longer has', { param: 'token' });
    await this.deps.repo.retireAll(row.user_id, 'verify_email', now);
    const user = await this.deps.users.get(row.user_id);
    await this.deps.audit.record({
      actor: { type: 'user', id: user.id },
      orgId: user.org_id,
      action: 'user.email_verified',
      targetType: 'user',
      targetId: user.id,
      ip,
      detail: { email: user.email },
    });
    return user;
  }

  /**
   * Email a reset link when an active account has this address. The caller learns nothing either way (the
   * route answers 202 in both cases); requests are throttled per IP and per address all the same.
   */
  async forgotPassword(email: string, origin: string, ip: string | null): Promise<void> {
    const address = email.trim().toLowerCase();
    await this.count(ip, address);
    const user = await this.deps.users.findByEmail(address);
    const sent = user !== undefined && user.status === 'active';
    if (user && sent) {
      const token = await this.issue('password_reset', user, RESET_TTL_MS);
      const link = `${origin}/reset-password?token=${encodeURIComponent(token)}`;
      this.deps.mailer.send(passwordResetMessage(user.email, link, RESET_TTL_MS / 60_000));
    }
    await this.deps.audit.record({
      actor: { type: 'anonymous', id: null },
      orgId: user?.org_id ?? null,
      action: 'auth.password_reset_requested',
      targetType: 'user',
      targetId: user?.id ?? null,
      ip,
      detail: { email: address, sent },
    });
  }

  /** Set a new password with a reset link: once, within its 30 minutes. Every session of the account ends. */
  async resetPassword(token: string, password: string, ip: string | null): Promise<void> {
    const row = await this.use('password_reset', token);
    const user = await this.deps.users.get(row.user_id).catch(() => undefined);
    if (!user) throw new ApiError('invalid_token', 'This link is no longer valid', { param: 'token' });
    if (user.status !== 'active') throw new ApiError('account_disabled', 'This account is disabled');
    // The password change ends every session (UsersService emits 'password').
    await this.deps.users.update(user.id, { password });
    const now = this.deps.clock.now();
    await this.deps.repo.retireAll(user.id, 'password_reset', now);
    // The link reached the inbox: the address is the user's.
    if (user.email_verified_at === null) await this.deps.repo.markVerified(user.id, row.email, now);
    await this.deps.audit.record({
      actor: { type: 'user', id: user.id },
      orgId: user.org_id,
      action: 'user.password_reset',
      targetType: 'user',
      targetId: user.id,
      ip,
    });
  }

  private async issue(purpose: EmailTokenPurpose, user: UsersTable, ttlMs: number): Promise<string> {
    const token = randomSecret(32);
    const now = this.deps.clock.now();
    await this.deps.repo.purgeExpired(now - KEEP_EXPIRED_MS);
    const row: EmailTokensTable = {
      id: this.deps.newId('etk'),
      purpose,
      user_id: user.id,
      email: user.email,
      token_hash: sha256Hex(token),
      created_at: now,
      expires_at: now + ttlMs,
      used_at: null,
    };
    await this.deps.repo.insert(row);
    return token;
  }

  /** Find a token and use it up: unknown, used or expired tokens are refused with 400 invalid_token. */
  private async use(purpose: EmailTokenPurpose, token: string): Promise<EmailTokensTable> {
    const row = await this.deps.repo.findByHash(purpose, sha256Hex(token));
    const now = this.deps.clock.now();
    if (!row) throw new ApiError('invalid_token', 'This link is not valid; ask for a new one', { param: 'token' });
    if (row.used_at !== null)
      throw new ApiError('invalid_token', 'This link was already used; ask for a new one', { param: 'token' });
    if (row.expires_at <= now)
      throw new ApiError('invalid_token', 'This link has expired; ask for a new one', { param: 'token' });
    if (!(await this.deps.repo.markUsed(row.id, now)))
      throw new ApiError('invalid_token', 'This link was already used; ask for a new one', { param: 'token' });
    return row;
  }

  private async count(ip: string | null, address: string): Promise<void> {
    await this.deps.throttle.check(ip ?? 'unknown', address);
    await this.deps.throttle.recordFailure(ip ?? 'unknown', address);
  }
}
