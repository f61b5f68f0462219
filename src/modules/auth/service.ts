import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import { safeEqual } from '../../core/secrets.js';
import type { UsersTable } from '../../infra/db/schema.js';
import type { Identity } from '../access/service.js';
import type { Actor, AuditService } from '../audit/service.js';
import type { SettingsService } from '../settings/service.js';
import type { SecondFactor, TwoFactorService } from '../two-factor/service.js';
import type { UsersService } from '../users/service.js';
import type { PasswordHasher } from './passwords.js';
import type { Principal } from './principal.js';
import type { RefreshContext, RefreshSessions, SignInSession } from './sessions.js';
import type { LoginThrottle } from './throttle.js';
import type { AccessTokens } from './tokens.js';

export interface SessionGrant {
  user: UsersTable;
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  refreshExpiresAt: number;
  /** The sign-in (refresh-token family) this grant belongs to. */
  sessionId: string;
}

/** A correct password of a user with 2FA: no session yet, a challenge for the second step. */
export interface TwoFactorPending {
  twoFactorRequired: true;
  challenge: string;
  expiresAt: number;
}

/** How a sign-in was completed (in the audit row of auth.login). */
export type SignInMethod = 'password' | 'totp' | 'recovery_code' | 'sso' | 'invitation';

export interface AuthServiceDeps {
  users: UsersService;
  sessions: RefreshSessions;
  tokens: AccessTokens;
  throttle: LoginThrottle;
  audit: AuditService;
  settings: SettingsService;
  hasher: PasswordHasher;
  clock: Clock;
  masterKey: string | undefined;
  twoFactor: TwoFactorService;
}

/** What the audit log keeps of where a sign-in event came from. */
function origin(context: RefreshContext): Record<string, unknown> {
  return { ip: context.ip, userAgent: context.userAgent };
}

/** Sign-up, sign-in, session refresh and bearer-token authentication for /api. */
/** A rule a password sign-in must pass once the password is right (e.g. "this organization signs in with SSO"). */
export type PasswordSignInCheck = (user: UsersTable) => Promise<void>;

export class AuthService {
  readonly #passwordChecks: PasswordSignInCheck[] = [];
  // A real argon2 hash to verify against when the account does not exist, so timing does not reveal it.
  #dummyHash: Promise<string> | undefined;

  constructor(private readonly deps: AuthServiceDeps) {
    deps.users.onChange(async (userId, change) => {
      if (change === 'disabled' || change === 'password') await deps.sessions.revokeAllForUser(userId);
    });
  }

  async register(
    input: { email: string; password: string; name?: string | undefined },
    context: RefreshContext,
  ): Promise<SessionGrant> {
    if (!this.deps.settings.get().registrationEnabled) {
      throw new ApiError('registration_disabled', 'Registration is closed on this AI Hub; ask an admin for an account');
    }
    // An instance without an admin (fresh `npm start`) makes its first account the admin.
    const role = (await this.deps.users.countActiveAdmins()) === 0 ? 'admin' : 'user';
    let user = await this.deps.users.create({
      email: input.email,
      password: input.password,
      name: input.name,
      role,
      emailVerified: false,
    });
    if (role === 'admin' && !(await this.deps.users.isFirstAdmin(user.id))) {
      // Several sign-ups raced for "first account"; only the earliest stays admin.
      user = await this.deps.users.update(user.id, { role: 'user' });
    }
    await this.deps.audit.record({
      orgId: user.org_id,
      actor: { type: 'user', id: user.id },
      action: 'user.register',
      targetType: 'user',
      targetId: user.id,
      ip: context.ip,
      detail: { role },
    });
    // Registering signs the new user in.
    const lastLoginAt = await this.deps.users.recordLogin(user.id);
    return this.grant({ ...user, last_login_at: lastLoginAt }, context);
  }

  async login(email: string, password: string, context: RefreshContext): Promise<SessionGrant | TwoFactorPending> {
    const account = email.trim().toLowerCase();
    const ip = context.ip ?? 'unknown';
    await this.deps.throttle.check(ip, account);
    const user = await this.deps.users.findByEmail(account);
    const valid = user
      ? await this.deps.users.verifyPassword(user, password)
      : (await this.deps.hasher.verify(await this.dummyHash(), password)) && false;
    if (!user || !valid) {
      await this.deps.throttle.recordFailure(ip, account);
      await this.deps.audit.record({
        orgId: user?.org_id ?? null,
        actor: { type: 'anonymous', id: null },
        action: 'auth.login_failed',
        targetType: 'user',
        targetId: user?.id ?? null,
        ip: context.ip,
        detail: { email: account, reason: user ? 'wrong_password' : 'unknown_email', ...origin(context) },
      });
      throw new ApiError('invalid_credentials', 'Email or password is incorrect');
    }
    if (user.status !== 'active') {
      await this.deps.audit.record({
        orgId: user.org_id,
        actor: { type: 'user', id: user.id },
        action: 'auth.login_failed',
        targetType: 'user',
        targetId: user.id,
        ip: context.ip,
        detail: { reason: 'disabled', ...origin(context) },
      });
      throw new ApiError('account_disabled', 'This account is disabled');
    }
    for (const check of this.#passwordChecks) {
      try {
        await check(user);
      } catch (error) {
        await this.deps.audit.record({
          actor: { type: 'user', id: user.id },
          action: 'auth.login_failed',
          targetType: 'user',
          targetId: user.id,
          ip: context.ip,
          detail: { reason: error instanceof ApiError ? error.code : 'refused' },
        });
        throw error;
      }
    }
    if (await this.deps.twoFactor.isEnabled(user.id)) {
      // The password was right, but the account's failure count stays until the second step passes: the
      // password alone must not buy more code guesses.
      const { challenge, expiresAt } = await this.deps.twoFactor.createChallenge(user.id);
      await this.deps.audit.record({
        orgId: user.org_id,
        actor: { type: 'user', id: user.id },
        action: 'auth.2fa_challenge',
        targetType: 'user',
        targetId: user.id,
        ip: context.ip,
        detail: origin(context),
      });
      return { twoFactorRequired: true, challenge, expiresAt };
    }
    return this.completeSignIn(user, context, 'password');
  }

  /**
   * The second step of a sign-in with 2FA: the challenge from the first step and an authenticator code or
   * a recovery code. Wrong codes count against the login throttle like wrong passwords.
   */
  async loginSecondFactor(token: string, factor: SecondFactor, context: RefreshContext): Promise<SessionGrant> {
    const ip = context.ip ?? 'unknown';
    const challenge = await this.deps.twoFactor.openChallenge(token);
    const user = await this.deps.users.get(challenge.userId).catch(() => undefined);
    if (!user) throw new ApiError('unauthorized', 'This sign-in is no longer valid; sign in again with your password');
    await this.deps.throttle.check(ip, user.email);
    const method = await this.deps.twoFactor.checkFactor(user.id, factor, context, user);
    if (method === null) {
      await this.deps.twoFactor.failChallenge(challenge.id);
      await this.deps.throttle.recordFailure(ip, user.email);
      await this.deps.audit.record({
        orgId: user.org_id,
        actor: { type: 'anonymous', id: null },
        action: 'auth.2fa_failed',
        targetType: 'user',
        targetId: user.id,
        ip: context.ip,
        detail: { factor: 'code' in factor ? 'totp' : 'recovery_code', ...origin(context) },
      });
      throw new ApiError(
        'invalid_two_factor_code',
        'code' in factor ? 'That code is not right' : 'That recovery code is not valid or was already used',
        { param: 'code' in factor ? 'code' : 'recoveryCode' },
      );
    }
    if (!(await this.deps.twoFactor.consumeChallenge(challenge.id)))
      throw new ApiError('unauthorized', 'This sign-in was already completed; sign in again with your password');
    if (user.status !== 'active') throw new ApiError('account_disabled', 'This account is disabled');
    return this.completeSignIn(user, context, method);
  }

  /** The end of every successful sign-in: the throttle forgets the account, the login is recorded and audited. */
  async completeSignIn(user: UsersTable, context: RefreshContext, method: SignInMethod): Promise<SessionGrant> {
    await this.deps.throttle.recordSuccess(user.email);
    const lastLoginAt = await this.deps.users.recordLogin(user.id);
    const grant = await this.grant({ ...user, last_login_at: lastLoginAt }, context);
    await this.deps.audit.record({
      orgId: user.org_id,
      actor: { type: 'user', id: user.id },
      action: 'auth.login',
      targetType: 'user',
      targetId: user.id,
      ip: context.ip,
      detail: { method, sessionId: grant.sessionId, ...origin(context) },
    });
    return grant;
  }

  /** Add a rule password sign-ins must pass (checked after the password, so it reveals nothing to guessers). */
  addPasswordSignInCheck(check: PasswordSignInCheck): void {
    this.#passwordChecks.push(check);
  }

  /**
   * Sign in a user another authority vouched for (an SSO identity provider): no password and no second
   * factor here (the IdP did its own). The caller audits it.
   */
  async signInVerified(user: UsersTable, context: RefreshContext): Promise<SessionGrant> {
    if (user.status !== 'active') throw new ApiError('account_disabled', 'This account is disabled');
    const lastLoginAt = await this.deps.users.recordLogin(user.id);
    return this.grant({ ...user, last_login_at: lastLoginAt }, context);
  }

  async refresh(refreshToken: string, context: RefreshContext): Promise<SessionGrant> {
    const { userId, next } = await this.deps.sessions.rotate(refreshToken, context);
    const user = await this.deps.users.get(userId).catch(() => undefined);
    if (!user || user.status !== 'active') throw new ApiError('unauthorized', 'Session expired; sign in again');
    const accessToken = await this.deps.tokens.sign(user.id, user.role, this.deps.clock.now(), next.familyId);
    return {
      user,
      accessToken,
      expiresIn: this.deps.tokens.ttl,
      refreshToken: next.token,
      refreshExpiresAt: next.expiresAt,
      sessionId: next.familyId,
    };
  }

  async logout(refreshToken: string | undefined, context: RefreshContext): Promise<void> {
    if (!refreshToken) return;
    const ended = await this.deps.sessions.revokeByToken(refreshToken);
    const user = ended && (await this.deps.users.get(ended.userId).catch(() => undefined));
    if (!ended || !user) return;
    await this.deps.audit.record({
      orgId: user.org_id,
      actor: { type: 'user', id: user.id },
      action: 'auth.logout',
      targetType: 'user',
      targetId: user.id,
      ip: context.ip,
      detail: { sessionId: ended.familyId, ...origin(context) },
    });
  }

  // ---- sessions (sign-ins)

  /** A user's live sign-ins. */
  listSessions(userId: string): Promise<SignInSession[]> {
    return this.deps.sessions.list(userId);
  }

  /** The sign-in an access token or a refresh token belongs to (for "this device" in the sessions list). */
  async currentSessionId(bearer: string | undefined, refreshToken: string | undefined): Promise<string | undefined> {
    if (refreshToken) {
      const family = await this.deps.sessions.familyOf(refreshToken);
      if (family) return family;
    }
    if (!bearer || (this.deps.masterKey && safeEqual(bearer, this.deps.masterKey))) return undefined;
    return (await this.deps.tokens.verify(bearer, this.deps.clock.now()).catch(() => undefined))?.sessionId;
  }

  /** End one of a user's sign-ins; 404 unless it is theirs and live. */
  async revokeSession(user: UsersTable, sessionId: string, actor: Actor, context: RefreshContext): Promise<void> {
    const live = await this.deps.sessions.list(user.id);
    if (!live.some((s) => s.id === sessionId)) throw new ApiError('not_found', `Session ${sessionId} not found`);
    await this.deps.sessions.revokeFamily(sessionId);
    await this.deps.audit.record({
      orgId: user.org_id,
      actor,
      action: 'auth.session_revoked',
      targetType: 'user',
      targetId: user.id,
      ip: context.ip,
      detail: { sessionId, ...origin(context) },
    });
  }

  /**
   * Sign out everywhere: every refresh token is revoked and every access token issued until now is refused.
   * With `keepCurrent`, a fresh session for this device is returned.
   */
  async revokeAllSessions(
    user: UsersTable,
    actor: Actor,
    context: RefreshContext,
    keepCurrent: true,
  ): Promise<SessionGrant>;
  async revokeAllSessions(
    user: UsersTable,
    actor: Actor,
    context: RefreshContext,
    keepCurrent: false,
  ): Promise<undefined>;
  async revokeAllSessions(
    user: UsersTable,
    actor: Actor,
    context: RefreshContext,
    keepCurrent: boolean,
  ): Promise<SessionGrant | undefined> {
    const now = await this.deps.sessions.signOutEverywhere(user.id);
    await this.deps.audit.record({
      orgId: user.org_id,
      actor,
      action: 'auth.sessions_revoked_all',
      targetType: 'user',
      targetId: user.id,
      ip: context.ip,
      detail: { keepCurrent, ...origin(context) },
    });
    return keepCurrent ? this.grant({ ...user, sessions_valid_after: now }, context) : undefined;
  }

  /** Change the caller's display name. */
  async updateProfile(principal: Principal, name: string): Promise<UsersTable> {
    if (principal.kind !== 'user') throw new ApiError('bad_request', 'The master key has no profile');
    return this.deps.users.update(principal.userId, { name });
  }

  /** Change the caller's password; ends every other session and returns a fresh one for this device. */
  async changePassword(
    principal: Principal,
    currentPassword: string,
    newPassword: string,
    context: RefreshContext,
  ): Promise<SessionGrant> {
    if (principal.kind !== 'user') throw new ApiError('bad_request', 'The master key has no password');
    const userId = principal.userId;
    const user = await this.deps.users.get(userId);
    if (!(await this.deps.users.verifyPassword(user, currentPassword))) {
      throw new ApiError('invalid_credentials', 'Current password is incorrect', { param: 'currentPassword' });
    }
    const updated = await this.deps.users.update(userId, { password: newPassword });
    await this.deps.audit.record({
      orgId: updated.org_id,
      actor: { type: 'user', id: userId },
      action: 'user.password_change',
      targetType: 'user',
      targetId: userId,
      ip: context.ip,
    });
    return this.grant(updated, context);
  }

  /**
   * Resolve an `Authorization: Bearer …` value to a principal: the master key, or a valid access token
   * of an active user whose password has not changed since the token was issued.
   */
  async authenticate(bearer: string | undefined): Promise<Identity> {
    if (!bearer) throw new ApiError('unauthorized', 'Sign in first: send Authorization: Bearer <access token>');
    if (this.deps.masterKey && safeEqual(bearer, this.deps.masterKey)) return { kind: 'master_key' };
    const claims = await this.deps.tokens.verify(bearer, this.deps.clock.now());
    const user = await this.deps.users.get(claims.userId).catch(() => undefined);
    if (!user) throw new ApiError('unauthorized', 'Invalid access token');
    if (user.status !== 'active') throw new ApiError('account_disabled', 'This account is disabled');
    if (claims.issuedAt < Math.floor(user.password_changed_at / 1000)) {
      throw new ApiError('token_expired', 'Password changed since this token was issued; sign in again');
    }
    if (claims.issuedAt < Math.floor(user.sessions_valid_after / 1000)) {
      throw new ApiError('token_expired', 'You signed out everywhere since this token was issued; sign in again');
    }
    return { kind: 'user', user };
  }

  /** Sign in a user who proved who they are another way (a new account from an accepted invitation). */
  signIn(user: UsersTable, context: RefreshContext, method: SignInMethod): Promise<SessionGrant> {
    return this.completeSignIn(user, context, method);
  }

  private async grant(user: UsersTable, context: RefreshContext): Promise<SessionGrant> {
    const refresh = await this.deps.sessions.issue(user.id, context);
    const accessToken = await this.deps.tokens.sign(user.id, user.role, this.deps.clock.now(), refresh.familyId);
    return {
      user,
      accessToken,
      expiresIn: this.deps.tokens.ttl,
      refreshToken: refresh.token,
      refreshExpiresAt: refresh.expiresAt,
      sessionId: refresh.familyId,
    };
  }

  private dummyHash(): Promise<string> {
    this.#dummyHash ??= this.deps.hasher.hash('aihub-timing-equaliser');
    return this.#dummyHash;
  }
}
