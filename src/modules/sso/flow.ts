import { randomNonce, randomPKCECodeVerifier, randomState } from 'openid-client';
import type { Clock } from '../../core/clock.js';
import { ApiError, isApiError } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { randomSecret, type SecretBox, safeEqual, sha256Hex } from '../../core/secrets.js';
import { DEFAULT_ORG_ID } from '../../infra/db/migrations/0001_foundation.js';
import type { SsoConnectionsTable, SsoStatesTable, UsersTable } from '../../infra/db/schema.js';
import type { AuditService } from '../audit/service.js';
import type { PasswordSignInCheck, SessionGrant } from '../auth/service.js';
import type { RefreshContext } from '../auth/sessions.js';
import type { OrganizationsService } from '../organizations/service.js';
import type { TeamsService } from '../teams/service.js';
import type { UsersService } from '../users/service.js';
import { emailDomain, type MappingPlan, type MappingRule, planMemberships } from './mapping.js';
import type { OidcClients } from './oidc.js';
import type { SsoRepository } from './repository.js';
import { type ConnectionScope, parseJsonArray, type SsoConnectionsService } from './service.js';

/** How long the IdP has to send the person back. */
const FLOW_TTL_MS = 10 * 60_000;
/** How long a state row (and a test sign-in's result) is kept. */
const KEEP_MS = 60 * 60_000;

/** Why a sign-in failed: the code the login page shows a message for (`/login?sso_error=<code>`). */
export type SsoErrorCode =
  | 'invalid_state'
  | 'unavailable'
  | 'idp_error'
  | 'exchange_failed'
  | 'no_email'
  | 'email_unverified'
  | 'domain_not_allowed'
  | 'no_account'
  | 'account_conflict'
  | 'account_disabled'
  | 'mapping_failed';

export class SsoFailure extends Error {
  constructor(
    readonly code: SsoErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SsoFailure';
  }
}

export type CallbackOutcome =
  | { kind: 'signed_in'; grant: SessionGrant; returnTo: string }
  | { kind: 'tested'; testId: string; connectionId: string; orgId: string | null };

export interface TestResult {
  status: 'pending' | 'ok' | 'failed';
  error: { code: string; message: string } | null;
  subject: string | null;
  email: string | null;
  claims: Record<string, unknown> | null;
  account: 'linked' | 'email_match' | 'new' | 'refused' | null;
  accountNote: string | null;
  matchedRules: number[];
  memberships: Array<{
    orgId: string;
    orgName: string | null;
    role: string;
    roleFromRule: boolean;
    teams: Array<{ teamId: string; teamName: string | null; role: 'admin' | 'member' }>;
  }>;
}

type Account =
  | { kind: 'linked'; user: UsersTable; identityId: string }
  | { kind: 'email_match'; user: UsersTable }
  | { kind: 'new' };

export interface SsoFlowDeps {
  repo: SsoRepository;
  clients: OidcClients;
  connections: SsoConnectionsService;
  organizations: OrganizationsService;
  teams: TeamsService;
  users: UsersService;
  audit: AuditService;
  secrets: SecretBox;
  clock: Clock;
  newId: IdGenerator;
  /** Issues the console session of a verified person (AuthService.signInVerified). */
  signIn: (user: UsersTable, context: RefreshContext) => Promise<SessionGrant>;
}

/** A relative console path to land on after signing in; anything else (other hosts, the API) becomes `/`. */
export function safeReturnTo(value: string | null | undefined): string {
  if (!value?.startsWith('/') || value.startsWith('//') || value.startsWith('/api/')) return '/';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (/[\\\u0000-\u001f\u007f]/.test(value)) return '/';
  return value;
}

/**
 * The sign-in flow: which buttons the login page shows, the redirect to the IdP (state, nonce and PKCE
 * verifier kept in the database, bound to the browser by a cookie), the callback (code exchange, ID token,
 * account by identity link, verified email or just-in-time creation, memberships by the claim mapping), the
 * test sign-in, and the SSO-only rule for password sign-ins.
 */
export class SsoFlow {
  constructor(private readonly deps: SsoFlowDeps) {}

  /** The connections the login page offers: by the email's domain, by organization, and the instance-wide ones. */
  async providers(query: {
    email?: string | undefined;
    org?: string | undefined;
  }): Promise<Array<{ id: string; name: string }>> {
    const all = await this.deps.repo.listEnabledConnections();
    const domain = query.email ? emailDomain(query.email.trim()) : null;
    const orgId = query.org ? (await this.deps.repo.findOrgBySlugOrId(query.org.trim()))?.id : undefined;
    return all
      .filter(
        (c) =>
          c.org_id === null ||
          (domain !== null && parseJsonArray<string>(c.email_domains).includes(domain)) ||
          (orgId !== undefined && c.org_id === orgId),
      )
      .map((c) => ({ id: c.id, name: c.name }));
  }

  /** Begin a sign-in: the IdP URL to send the browser to, and the binding value for its cookie. */
  async start(connectionId: string, options: { redirectUri: string; returnTo?: string | undefined }) {
    const connection = await this.deps.repo.findConnection(connectionId);
    if (connection?.enabled !== 1)
      throw new SsoFailure('unavailable', 'This single sign-on connection does not exist or is disabled');
    return this.begin(connection, 'signin', options.redirectUri, safeReturnTo(options.returnTo), null);
  }

  /** Begin a test sign-in of a connection of this scope (it may be disabled): nobody is signed in. */
  async startTest(scope: ConnectionScope, connectionId: string, userId: string | null, redirectUri: string) {
    const connection = await this.deps.connections.get(scope, connectionId);
    try {
      return await this.begin(connection, 'test', redirectUri, null, userId);
    } catch (error) {
      if (error instanceof SsoFailure)
        throw new ApiError('bad_request', `Cannot reach the IdP: ${error.message}`, { param: 'issuer' });
      throw error;
    }
  }

  private async begin(
    connection: SsoConnectionsTable,
    mode: 'signin' | 'test',
    redirectUri: string,
    returnTo: string | null,
    userId: string | null,
  ): Promise<{ url: string; binding: string; testId: string }> {
    const now = this.deps.clock.now();
    await this.deps.repo.purgeStates(now);
    const state = randomState();
    const nonce = randomNonce();
    const codeVerifier = randomPKCECodeVerifier();
    const binding = randomSecret(24);
    let url: string;
    try {
      url = await this.deps.clients.authorizationUrl(connection, {
        redirectUri,
        scopes: connection.scopes,
        state,
        nonce,
        codeVerifier,
      });
    } catch (error) {
      throw new SsoFailure('unavailable', `The IdP's discovery failed: ${messageOf(error)}`);
    }
    const id = sha256Hex(state);
    await this.deps.repo.insertState({
      id,
      connection_id: connection.id,
      mode,
      binding_hash: sha256Hex(binding),
      code_verifier: this.deps.secrets.encrypt(codeVerifier),
      nonce,
      redirect_uri: redirectUri,
      return_to: returnTo,
      user_id: userId,
      result: null,
      created_at: now,
      expires_at: now + KEEP_MS,
      used_at: null,
    });
    return { url, binding, testId: id };
  }

  /**
   * The IdP sent the browser back. `rawQuery` is the callback's query string as received; `binding` the
   * browser's binding cookie. Throws SsoFailure for the login page.
   */
  async callback(input: {
    rawQuery: string;
    state: string | undefined;
    error: string | undefined;
    errorDescription: string | undefined;
    binding: string | undefined;
    context: RefreshContext;
  }): Promise<CallbackOutcome> {
    const row = await this.claimState(input.state, input.binding);
    const connection = await this.deps.repo.findConnection(row.connection_id);
    try {
      if (!connection || (row.mode === 'signin' && connection.enabled !== 1))
        throw new SsoFailure('unavailable', 'This single sign-on connection was removed or disabled');
      if (input.error)
        throw new SsoFailure('idp_error', `The identity provider refused: ${input.errorDescription ?? input.error}`);
      const callbackUrl = new URL(row.redirect_uri);
      callbackUrl.search = input.rawQuery;
      let verified: Awaited<ReturnType<OidcClients['exchange']>>;
      try {
        verified = await this.deps.clients.exchange(connection, callbackUrl, {
          state: input.state as string,
          nonce: row.nonce,
          codeVerifier: this.deps.secrets.decrypt(row.code_verifier),
        });
      } catch (error) {
        throw new SsoFailure('exchange_failed', `The sign-in could not be verified: ${messageOf(error)}`);
      }
      if (row.mode === 'test') {
        await this.recordTest(row, connection, verified.subject, verified.claims);
        return { kind: 'tested', testId: row.id, connectionId: connection.id, orgId: connection.org_id };
      }
      const grant = await this.signIn(connection, verified.subject, verified.claims, input.context);
      return { kind: 'signed_in', grant, returnTo: row.return_to ?? '/' };
    } catch (error) {
      const failure =
        error instanceof SsoFailure
          ? error
          : new SsoFailure('mapping_failed', `The sign-in failed: ${messageOf(error)}`);
      if (row.mode === 'test') {
        await this.saveTest(row.id, {
          ...emptyResult('failed'),
          error: { code: failure.code, message: failure.message },
        });
        return { kind: 'tested', testId: row.id, connectionId: row.connection_id, orgId: connection?.org_id ?? null };
      }
      await this.deps.audit.record({
        orgId: connection?.org_id ?? null,
        actor: { type: 'anonymous', id: null },
        action: 'auth.sso_failed',
        targetType: 'sso_connection',
        targetId: row.connection_id,
        ip: input.context.ip,
        detail: { code: failure.code, reason: failure.message.slice(0, 300) },
      });
      throw failure;
    }
  }

  /** The state must exist, be fresh, unused, and belong to this browser; it is used up here. */
  private async claimState(state: string | undefined, binding: string | undefined): Promise<SsoStatesTable> {
    const invalid = () =>
      new SsoFailure('invalid_state', 'This sign-in link is invalid or expired; start the sign-in again');
    if (!state || !binding) throw invalid();
    const row = await this.deps.repo.findState(sha256Hex(state));
    const now = this.deps.clock.now();
    if (!row || row.used_at !== null || Number(row.created_at) + FLOW_TTL_MS < now) throw invalid();
    if (!safeEqual(row.binding_hash, sha256Hex(binding))) throw invalid();
    if (!(await this.deps.repo.consumeState(row.id, now))) throw invalid();
    return row;
  }

  private async signIn(
    connection: SsoConnectionsTable,
    subject: string,
    claims: Record<string, unknown>,
    context: RefreshContext,
  ): Promise<SessionGrant> {
    const email = emailOf(claims);
    const account = await this.resolveAccount(connection, subject, email, claims);
    const plan = await this.plan(connection, claims);
    const now = this.deps.clock.now();
    let user: UsersTable;
    let created = false;
    if (account.kind === 'new') {
      const home = plan.memberships[0];
      user = await this.deps.users.create({
        email: email as string,
        // Nobody knows it: the account signs in through its IdP (or after a password reset).
        password: randomSecret(32),
        name: typeof claims.name === 'string' ? claims.name.slice(0, 100) : undefined,
        orgId: home?.orgId,
        orgRole: home?.role,
        emailVerified: true,
      });
      created = true;
    } else {
      user = account.user;
    }
    if (user.status !== 'active') throw new SsoFailure('account_disabled', 'This account is disabled');
    await this.applyPlan(user.id, plan, created);
    if (account.kind === 'linked') await this.deps.repo.touchIdentity(account.identityId, now, email);
    else {
      try {
        await this.deps.repo.insertIdentity({
          id: this.deps.newId('uid'),
          user_id: user.id,
          connection_id: connection.id,
          subject,
          email,
          created_at: now,
          last_login_at: now,
        });
      } catch (error) {
        // Two callbacks of one person racing: the unique index keeps one link.
        if (!(await this.deps.repo.findIdentity(connection.id, subject))) throw error;
      }
    }
    if (email !== null && email === user.email) await this.deps.repo.markEmailVerified(user.id, now);
    const grant = await this.deps.signIn(user, context);
    await this.deps.audit.record({
      orgId: connection.org_id ?? user.org_id,
      actor: { type: 'user', id: user.id },
      action: 'auth.sso_login',
      targetType: 'user',
      targetId: user.id,
      ip: context.ip,
      detail: { connectionId: connection.id, connection: connection.name, account: account.kind, created },
    });
    return grant;
  }

  /**
   * Who this is: the account linked to (connection, subject); else the account with the verified email (an
   * organization's connection links only accounts of that organization alone, never a platform admin: an
   * organization's admin controls their IdP and must not take over other accounts); else a new one (JIT).
   */
  private async resolveAccount(
    connection: SsoConnectionsTable,
    subject: string,
    email: string | null,
    claims: Record<string, unknown>,
  ): Promise<Account> {
    const domains = parseJsonArray<string>(connection.email_domains);
    if (email !== null && domains.length > 0 && !domains.includes(emailDomain(email) ?? ''))
      throw new SsoFailure('domain_not_allowed', `This connection does not serve ${emailDomain(email)} addresses`);
    const identity = await this.deps.repo.findIdentity(connection.id, subject);
    if (identity) {
      const user = await this.deps.repo.findUser(identity.user_id);
      if (user) return { kind: 'linked', user, identityId: identity.id };
    }
    if (email === null) throw new SsoFailure('no_email', 'The identity provider sent no email address');
    if (claims.email_verified === false)
      throw new SsoFailure('email_unverified', 'The identity provider says this email address is not verified');
    const existing = await this.deps.repo.findUserByEmail(email);
    if (existing) {
      if (connection.org_id !== null) {
        const orgs = await this.deps.repo.organizationsOf(existing.id);
        if (existing.role === 'admin' || orgs.some((o) => o !== connection.org_id))
          throw new SsoFailure(
            'account_conflict',
            'An account with this email already exists outside this organization; sign in with its password',
          );
      }
      return { kind: 'email_match', user: existing };
    }
    if (connection.jit !== 1)
      throw new SsoFailure('no_account', 'There is no account for this email and this connection creates none');
    return { kind: 'new' };
  }

  private async plan(connection: SsoConnectionsTable, claims: Record<string, unknown>): Promise<MappingPlan> {
    const rules = parseJsonArray<MappingRule>(connection.mappings);
    const teams = await this.deps.repo.teams(rules.flatMap((r) => (r.team ? [r.team] : [])));
    return planMemberships(claims, rules, {
      connectionOrgId: connection.org_id,
      defaultRole: connection.default_role,
      fallbackOrgId: DEFAULT_ORG_ID,
      teamOrgs: new Map([...teams].map(([id, t]) => [id, t.orgId])),
    });
  }

  /**
   * Memberships by the mapping. A role a rule names is kept in sync at each sign-in (never an owner's); the
   * default role only applies when joining. People no rule placed join the fallback organization only when new.
   */
  private async applyPlan(userId: string, plan: MappingPlan, created: boolean): Promise<void> {
    const { organizations, teams } = this.deps;
    for (const membership of plan.memberships) {
      if (plan.fallback && !created) continue;
      try {
        if (!(await organizations.isMember(membership.orgId, userId))) {
          await organizations.addMember(membership.orgId, userId, membership.role);
        } else if (membership.roleFromRule) {
          const current = (await organizations.getMember(membership.orgId, userId)).role;
          if (current !== membership.role && current !== 'owner')
            await organizations.addMember(membership.orgId, userId, membership.role, { replaceRole: true });
        }
      } catch (error) {
        throw new SsoFailure('mapping_failed', `The role mapping failed: ${messageOf(error)}`);
      }
      for (const team of membership.teams) {
        try {
          await teams.addMember(team.teamId, userId, team.role);
        } catch (error) {
          // A team deleted since the mapping was saved does not block the sign-in.
          if (!(isApiError(error) && error.code === 'not_found')) throw error;
        }
      }
    }
  }

  // ---- test sign-in

  private async recordTest(
    row: SsoStatesTable,
    connection: SsoConnectionsTable,
    subject: string,
    claims: Record<string, unknown>,
  ): Promise<void> {
    const email = emailOf(claims);
    let account: TestResult['account'] = null;
    let accountNote: string | null = null;
    try {
      account = (await this.resolveAccount(connection, subject, email, claims)).kind;
    } catch (error) {
      account = 'refused';
      accountNote = error instanceof SsoFailure ? `${error.code}: ${error.message}` : messageOf(error);
    }
    const plan = await this.plan(connection, claims);
    const orgNames = await this.deps.repo.orgNames(plan.memberships.map((m) => m.orgId));
    const teamNames = await this.deps.repo.teams(plan.memberships.flatMap((m) => m.teams.map((t) => t.teamId)));
    await this.saveTest(row.id, {
      status: 'ok',
      error: null,
      subject,
      email,
      claims,
      account,
      accountNote,
      matchedRules: plan.matched,
      memberships: plan.memberships.map((m) => ({
        orgId: m.orgId,
        orgName: orgNames.get(m.orgId) ?? null,
        role: m.role,
        roleFromRule: m.roleFromRule,
        teams: m.teams.map((t) => ({
          teamId: t.teamId,
          teamName: teamNames.get(t.teamId)?.name ?? null,
          role: t.role,
        })),
      })),
    });
  }

  private saveTest(id: string, result: TestResult): Promise<void> {
    return this.deps.repo.saveResult(id, JSON.stringify(result));
  }

  /** A test sign-in's result, for the admins of the connection's scope. */
  async testResult(scope: ConnectionScope, connectionId: string, testId: string): Promise<TestResult> {
    await this.deps.connections.get(scope, connectionId);
    const row = await this.deps.repo.findTest(connectionId, testId);
    if (!row) throw new ApiError('not_found', 'Test sign-in not found (results are kept for an hour)');
    return row.result === null ? emptyResult('pending') : (JSON.parse(row.result) as TestResult);
  }

  // ---- SSO-only

  /**
   * Password sign-ins of people an SSO-only connection covers are refused (403 sso_required, naming it):
   * an organization's connection covers the accounts whose home it is, and those linked to it; an
   * instance-wide one covers everyone (of its email domains, when it has some). Platform admins are never
   * covered, so that nobody is locked out.
   */
  passwordCheck(): PasswordSignInCheck {
    return async (user) => {
      if (user.role === 'admin') return;
      const connections = await this.deps.repo.ssoOnlyConnections(await this.deps.repo.organizationsOf(user.id));
      if (connections.length === 0) return;
      const linked = new Set(await this.deps.repo.linkedConnectionIds(user.id));
      const domain = emailDomain(user.email);
      const covering = connections.find((c) => {
        if (c.org_id !== null) return c.org_id === user.org_id || linked.has(c.id);
        const domains = parseJsonArray<string>(c.email_domains);
        return domains.length === 0 || (domain !== null && domains.includes(domain));
      });
      if (covering)
        throw new ApiError(
          'sso_required',
          `Your organization signs in with single sign-on: use "Sign in with ${covering.name}"`,
        );
    };
  }
}

function emailOf(claims: Record<string, unknown>): string | null {
  const email = claims.email;
  return typeof email === 'string' && email.includes('@') ? email.trim().toLowerCase() : null;
}

function emptyResult(status: TestResult['status']): TestResult {
  return {
    status,
    error: null,
    subject: null,
    email: null,
    claims: null,
    account: null,
    accountNote: null,
    matchedRules: [],
    memberships: [],
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
