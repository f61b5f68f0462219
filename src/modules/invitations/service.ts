import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { randomSecret, sha256Hex } from '../../core/secrets.js';
import type { InvitationsTable, UsersTable } from '../../infra/db/schema.js';
import type { TeamRole } from '../access/permissions.js';
import type { Identity } from '../access/service.js';
import type { AuditService } from '../audit/service.js';
import { actorOf, type Principal } from '../auth/principal.js';
import type { SessionGrant } from '../auth/service.js';
import type { RefreshContext } from '../auth/sessions.js';
import type { Mailer } from '../mail/mailer.js';
import { invitationMessage } from '../mail/templates.js';
import type { OrganizationsService } from '../organizations/service.js';
import type { TeamsService } from '../teams/service.js';
import type { UsersService } from '../users/service.js';
import type { InvitationRow, InvitationsRepository } from './repository.js';

/** How long an invitation link works. */
export const INVITATION_TTL_MS = 7 * 86_400_000;

export type InvitationStatus = 'pending' | 'accepted' | 'revoked' | 'expired';

export interface InvitationResponse {
  id: string;
  email: string;
  role: string;
  team: { id: string; name: string } | null;
  teamRole: TeamRole | null;
  status: InvitationStatus;
  invitedBy: { id: string; email: string | null } | null;
  createdAt: number;
  sentAt: number;
  expiresAt: number;
  acceptedAt: number | null;
  revokedAt: number | null;
  /** The accept link: only when no SMTP server is configured, so that an admin can pass it on. */
  acceptUrl?: string;
}

/** What the accept page shows to whoever holds the link. */
export interface InvitationPreview {
  organization: { name: string; slug: string };
  email: string;
  role: string;
  roleName: string;
  team: { name: string } | null;
  teamRole: TeamRole | null;
  expiresAt: number;
  accountExists: boolean;
}

export interface AcceptResult {
  user: UsersTable;
  organization: { id: string; name: string; slug: string };
  role: string;
  team: { id: string; name: string } | null;
  /** A new session, when accepting created the account. */
  grant: SessionGrant | null;
}

export interface InvitationsDeps {
  repo: InvitationsRepository;
  organizations: OrganizationsService;
  teams: TeamsService;
  users: UsersService;
  /** Signs in an account created by accepting. */
  signIn: (user: UsersTable, context: RefreshContext) => Promise<SessionGrant>;
  mailer: Mailer;
  audit: AuditService;
  clock: Clock;
  newId: IdGenerator;
}

function statusOf(row: InvitationsTable, now: number): InvitationStatus {
  if (row.accepted_at !== null) return 'accepted';
  if (row.revoked_at !== null) return 'revoked';
  return Number(row.expires_at) <= now ? 'expired' : 'pending';
}

/** Invitations to an organization (and optionally one of its teams) with a role, accepted through an emailed link. */
export class InvitationsService {
  constructor(private readonly deps: InvitationsDeps) {}

  async list(orgId: string): Promise<InvitationResponse[]> {
    const now = this.deps.clock.now();
    return (await this.deps.repo.list(orgId)).map((row) => this.toResponse(row, now));
  }

  async create(
    principal: Principal,
    input: { email: string; role: string; teamId?: string | undefined; teamRole?: TeamRole | undefined },
    origin: string,
    ip: string | null,
  ): Promise<InvitationResponse> {
    const { orgId } = principal;
    const email = input.email.trim().toLowerCase();
    await this.deps.organizations.assertMayGrant(orgId, input.role, principal);
    if (input.teamRole !== undefined && input.teamId === undefined)
      throw new ApiError('validation_failed', 'teamRole needs a teamId', { param: 'teamRole' });
    const team = input.teamId === undefined ? undefined : await this.inOrgTeam(orgId, input.teamId);
    const existing = await this.deps.users.findByEmail(email);
    if (existing && !team && (await this.deps.organizations.isMember(orgId, existing.id)))
      throw new ApiError('conflict', `${email} is already a member of this organization`, { param: 'email' });
    const now = this.deps.clock.now();
    if (await this.deps.repo.openFor(orgId, email, now))
      throw new ApiError('conflict', `${email} already has an open invitation; resend or revoke it`, {
        param: 'email',
      });
    const token = randomSecret(32);
    const row: InvitationsTable = {
      id: this.deps.newId('inv'),
      org_id: orgId,
      email,
      role: input.role,
      team_id: team?.id ?? null,
      team_role: team ? (input.teamRole ?? 'member') : null,
      token_hash: sha256Hex(token),
      invited_by: principal.kind === 'user' ? principal.userId : null,
      created_at: now,
      sent_at: now,
      expires_at: now + INVITATION_TTL_MS,
      accepted_at: null,
      accepted_by: null,
      revoked_at: null,
    };
    await this.deps.repo.insert(row);
    const acceptUrl = await this.mail(row, token, origin, principal);
    await this.deps.audit.record({
      actor: actorOf(principal),
      orgId,
      action: 'invitation.create',
      targetType: 'invitation',
      targetId: row.id,
      ip,
      detail: { email, role: row.role, teamId: row.team_id, teamRole: row.team_role },
    });
    return this.answer(orgId, row.id, acceptUrl);
  }

  /** A new link (the old one stops working) and a new expiry. */
  async resend(principal: Principal, id: string, origin: string, ip: string | null): Promise<InvitationResponse> {
    const row = await this.find(principal.orgId, id);
    this.assertOpen(row, false);
    const token = randomSecret(32);
    const now = this.deps.clock.now();
    const patch = { token_hash: sha256Hex(token), sent_at: now, expires_at: now + INVITATION_TTL_MS };
    if (!(await this.deps.repo.updateOpen(id, patch))) throw gone('was accepted or revoked meanwhile');
    const acceptUrl = await this.mail({ ...row, ...patch }, token, origin, principal);
    await this.deps.audit.record({
      actor: actorOf(principal),
      orgId: principal.orgId,
      action: 'invitation.resend',
      targetType: 'invitation',
      targetId: id,
      ip,
      detail: { email: row.email },
    });
    return this.answer(principal.orgId, id, acceptUrl);
  }

  async revoke(principal: Principal, id: string, ip: string | null): Promise<void> {
    const row = await this.find(principal.orgId, id);
    this.assertOpen(row, false);
    if (!(await this.deps.repo.updateOpen(id, { revoked_at: this.deps.clock.now() })))
      throw gone('was accepted or revoked meanwhile');
    await this.deps.audit.record({
      actor: actorOf(principal),
      orgId: principal.orgId,
      action: 'invitation.revoke',
      targetType: 'invitation',
      targetId: id,
      ip,
      detail: { email: row.email },
    });
  }

  /** What the accept page shows. */
  async preview(token: string): Promise<InvitationPreview> {
    const row = await this.byToken(token);
    const org = await this.deps.organizations.findOrg(row.org_id);
    if (!org) throw gone('is for an organization that no longer exists');
    const role = await this.deps.organizations.getRole(row.org_id, row.role).catch(() => undefined);
    return {
      organization: { name: org.name, slug: org.slug },
      email: row.email,
      role: row.role,
      roleName: role?.name ?? row.role,
      team: row.team_name === null ? null : { name: row.team_name },
      teamRole: row.team_role,
      expiresAt: Number(row.expires_at),
      accountExists: (await this.deps.users.findByEmail(row.email)) !== undefined,
    };
  }

  /**
   * Accept: signed in as the invited address → the memberships are added; not signed in and no account yet →
   * the account is created (its address counts as verified) and signed in; an existing account must sign in first.
   */
  async accept(
    token: string,
    identity: Identity | undefined,
    signup: { name?: string | undefined; password?: string | undefined },
    context: RefreshContext,
  ): Promise<AcceptResult> {
    const row = await this.byToken(token);
    let user: UsersTable | undefined;
    if (identity) {
      if (identity.kind !== 'user')
        throw new ApiError('forbidden', 'Invitations are accepted by a user account, not the master key');
      if (identity.user.email !== row.email)
        throw new ApiError(
          'forbidden',
          `This invitation is for ${row.email}; you are signed in as ${identity.user.email}`,
        );
      user = identity.user;
    } else if (await this.deps.users.findByEmail(row.email)) {
      throw new ApiError(
        'unauthorized',
        `An account with ${row.email} exists: sign in first, then accept the invitation`,
      );
    } else if (signup.password === undefined) {
      throw new ApiError('validation_failed', 'Choose a password for your new account', { param: 'password' });
    }
    const org = await this.deps.organizations.findOrg(row.org_id);
    if (!org) throw gone('is for an organization that no longer exists');
    await this.deps.organizations.assertRoleExists(row.org_id, row.role);
    const now = this.deps.clock.now();
    if (!(await this.deps.repo.claim(row.id, user?.id ?? null, now))) throw gone('was used or revoked meanwhile');
    const created = user === undefined;
    try {
      if (user) {
        await this.deps.organizations.addMember(row.org_id, user.id, row.role);
      } else {
        user = await this.deps.users.create({
          email: row.email,
          password: signup.password as string,
          name: signup.name,
          orgId: row.org_id,
          orgRole: row.role,
        });
      }
      if (row.team_id) await this.deps.teams.addMember(row.team_id, user.id, row.team_role ?? 'member');
    } catch (error) {
      await this.deps.repo.unclaim(row.id);
      throw error;
    }
    if (created) {
      // The claim was taken before the account existed: record who accepted.
      await this.deps.repo.setAcceptedBy(row.id, user.id);
      await this.deps.audit.record({
        actor: { type: 'user', id: user.id },
        orgId: row.org_id,
        action: 'user.register',
        targetType: 'user',
        targetId: user.id,
        ip: context.ip,
        detail: { via: 'invitation', invitationId: row.id },
      });
    }
    await this.deps.audit.record({
      actor: { type: 'user', id: user.id },
      orgId: row.org_id,
      action: 'invitation.accept',
      targetType: 'invitation',
      targetId: row.id,
      ip: context.ip,
      detail: { email: row.email, role: row.role, teamId: row.team_id, teamRole: row.team_role, newAccount: created },
    });
    return {
      user,
      organization: { id: org.id, name: org.name, slug: org.slug },
      role: row.role,
      team: row.team_id && row.team_name !== null ? { id: row.team_id, name: row.team_name } : null,
      grant: created ? await this.deps.signIn(user, context) : null,
    };
  }

  private async inOrgTeam(orgId: string, teamId: string) {
    try {
      return await this.deps.teams.inOrg(orgId, teamId);
    } catch {
      throw new ApiError('validation_failed', `There is no team ${teamId} in this organization`, { param: 'teamId' });
    }
  }

  private async find(orgId: string, id: string): Promise<InvitationRow> {
    const row = await this.deps.repo.inOrg(orgId, id);
    if (!row) throw notFound('Invitation');
    return row;
  }

  private async byToken(token: string): Promise<InvitationRow> {
    const row = await this.deps.repo.byTokenHash(sha256Hex(token));
    if (!row) throw notFound('Invitation');
    this.assertOpen(row, true);
    return row;
  }

  /** Accepted or revoked invitations are gone; expired ones too, except for a resend (which renews them). */
  private assertOpen(row: InvitationsTable, refuseExpired: boolean): void {
    const status = statusOf(row, this.deps.clock.now());
    if (status === 'accepted') throw gone('was already accepted');
    if (status === 'revoked') throw gone('was revoked');
    if (status === 'expired' && refuseExpired) throw gone('has expired; ask for a new one');
  }

  /** Mail the link; returns it when there is no SMTP server (the admin passes it on). */
  private async mail(
    row: InvitationsTable,
    token: string,
    origin: string,
    principal: Principal,
  ): Promise<string | undefined> {
    const link = `${origin}/invite/${encodeURIComponent(token)}`;
    const org = await this.deps.organizations.findOrg(row.org_id);
    const role = await this.deps.organizations.getRole(row.org_id, row.role).catch(() => undefined);
    const team = row.team_id ? await this.deps.teams.find(row.team_id) : undefined;
    this.deps.mailer.send(
      invitationMessage(row.email, link, {
        organization: org?.name ?? row.org_id,
        role: role?.name ?? row.role,
        team: team?.name ?? null,
        invitedBy: principal.kind === 'user' ? principal.email : null,
        validDays: INVITATION_TTL_MS / 86_400_000,
      }),
    );
    return this.deps.mailer.configured ? undefined : link;
  }

  private async answer(orgId: string, id: string, acceptUrl: string | undefined): Promise<InvitationResponse> {
    const response = this.toResponse(await this.find(orgId, id), this.deps.clock.now());
    return acceptUrl === undefined ? response : { ...response, acceptUrl };
  }

  private toResponse(row: InvitationRow, now: number): InvitationResponse {
    return {
      id: row.id,
      email: row.email,
      role: row.role,
      team: row.team_id === null ? null : { id: row.team_id, name: row.team_name ?? row.team_id },
      teamRole: row.team_role,
      status: statusOf(row, now),
      invitedBy: row.invited_by === null ? null : { id: row.invited_by, email: row.inviter_email },
      createdAt: Number(row.created_at),
      sentAt: Number(row.sent_at),
      expiresAt: Number(row.expires_at),
      acceptedAt: row.accepted_at === null ? null : Number(row.accepted_at),
      revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    };
  }
}

function gone(why: string): ApiError {
  return new ApiError('invitation_gone', `This invitation ${why}`);
}
