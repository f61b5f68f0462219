import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { DEFAULT_ORG_ID } from '../../infra/db/migrations/0001_foundation.js';
import type { UserRole, UserStatus, UsersTable } from '../../infra/db/schema.js';
import type { PasswordHasher } from '../auth/passwords.js';
import type { UserListQuery, UsersRepository } from './repository.js';

/** A user as any API shows it: never the password hash. */
export interface UserResponse {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  status: UserStatus;
  orgId: string;
  createdAt: number;
  updatedAt: number;
  lastLoginAt: number | null;
  emailVerifiedAt: number | null;
}

export function toUserResponse(row: UsersTable): UserResponse {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    status: row.status,
    orgId: row.org_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastLoginAt: row.last_login_at,
    emailVerifiedAt: row.email_verified_at === null ? null : Number(row.email_verified_at),
  };
}

export interface CreateUserInput {
  email: string;
  password: string;
  name?: string | undefined;
  role?: UserRole | undefined;
  /** The account's home organization, which it joins (default: the Default organization). */
  orgId?: string | undefined;
  /** Its role there (default: owner for instance admins, developer for everyone else). */
  orgRole?: string | undefined;
  /**
   * Whether the address is known to be the person's. Only self-registration passes false (confirmed by the
   * link mailed to it); accounts made by an admin, the CLI, SSO or an accepted invitation count as verified.
   */
  emailVerified?: boolean | undefined;
}

export interface UpdateUserInput {
  name?: string | undefined;
  role?: UserRole | undefined;
  status?: UserStatus | undefined;
  password?: string | undefined;
}

/** Hooks other modules register to react to user changes (e.g. drop cached keys, end sessions). */
export type UserChangeListener = (
  userId: string,
  change: 'disabled' | 'enabled' | 'role' | 'password',
) => Promise<void> | void;

/** Rules about users: unique emails, at least one active admin, hashing passwords. */
export class UsersService {
  readonly #listeners: UserChangeListener[] = [];
  readonly #created: Array<(user: UsersTable) => Promise<void> | void> = [];

  constructor(
    private readonly repo: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly clock: Clock,
    private readonly newId: IdGenerator,
  ) {}

  onChange(listener: UserChangeListener): void {
    this.#listeners.push(listener);
  }

  /** Called after a user is created (e.g. to give it the default limits). */
  onCreated(listener: (user: UsersTable) => Promise<void> | void): void {
    this.#created.push(listener);
  }

  async create(input: CreateUserInput): Promise<UsersTable> {
    const email = input.email.trim().toLowerCase();
    if (await this.repo.findByEmail(email))
      throw new ApiError('conflict', `A user with email ${email} already exists`, { param: 'email' });
    const now = this.clock.now();
    const row: UsersTable = {
      id: this.newId('usr'),
      email,
      name: input.name?.trim() || email.split('@')[0] || email,
      password_hash: await this.hasher.hash(input.password),
      role: input.role ?? 'user',
      status: 'active',
      org_id: input.orgId ?? DEFAULT_ORG_ID,
      created_at: now,
      updated_at: now,
      last_login_at: null,
      password_changed_at: now,
      email_verified_at: input.emailVerified === false ? null : now,
      sessions_valid_after: 0,
    };
    try {
      const orgRole = input.orgRole ?? (row.role === 'admin' ? 'owner' : 'developer');
      await this.repo.insertWithMembership(row, this.newId('mem'), orgRole);
    } catch (error) {
      // Two registrations racing for one email: the unique index decides.
      if (await this.repo.findByEmail(email))
        throw new ApiError('conflict', `A user with email ${email} already exists`, { param: 'email' });
      throw error;
    }
    for (const listener of this.#created) await listener(row);
    return row;
  }

  async get(id: string): Promise<UsersTable> {
    const row = await this.repo.findById(id);
    if (!row) throw notFound('User');
    return row;
  }

  /** A member of this organization; anyone else (of another organization, or no one) is "not found". */
  async getInOrg(orgId: string, id: string): Promise<UsersTable> {
    const row = await this.repo.findById(id);
    if (!row || !(await this.repo.isMember(orgId, id))) throw notFound('User');
    return row;
  }

  findByEmail(email: string): Promise<UsersTable | undefined> {
    return this.repo.findByEmail(email);
  }

  list(query: UserListQuery): Promise<{ rows: UsersTable[]; total: number }> {
    return this.repo.list(query);
  }

  /**
   * Change a user. `actingUserId` is the signed-in user making the change, when it is one: nobody may
   * disable their own account.
   */
  async update(id: string, input: UpdateUserInput, actingUserId?: string): Promise<UsersTable> {
    if (actingUserId === id && input.status === 'disabled') {
      throw new ApiError('conflict', 'You cannot disable your own account');
    }
    const current = await this.get(id);
    const losesAdmin =
      current.role === 'admin' && current.status === 'active' && (input.role === 'user' || input.status === 'disabled');
    const lastAdmin = () => new ApiError('conflict', 'This is the last active admin; make another admin first');
    // Checked before hashing a new password (cheap refusal), and again atomically with the update.
    if (losesAdmin && (await this.repo.countActiveAdmins()) <= 1) throw lastAdmin();
    const now = this.clock.now();
    const patch: Partial<UsersTable> = { updated_at: now };
    if (input.name !== undefined) patch.name = input.name.trim();
    if (input.role !== undefined) patch.role = input.role;
    if (input.status !== undefined) patch.status = input.status;
    if (input.password !== undefined) {
      patch.password_hash = await this.hasher.hash(input.password);
      patch.password_changed_at = now;
    }
    if (!losesAdmin) await this.repo.update(id, patch);
    else if (!(await this.repo.updateKeepingAnAdmin(id, patch))) throw lastAdmin();
    const updated = { ...current, ...patch };
    if (input.status !== undefined && input.status !== current.status)
      await this.emit(id, input.status === 'disabled' ? 'disabled' : 'enabled');
    if (input.role !== undefined && input.role !== current.role) await this.emit(id, 'role');
    if (input.password !== undefined) await this.emit(id, 'password');
    return updated;
  }

  async recordLogin(id: string): Promise<number> {
    const now = this.clock.now();
    await this.repo.update(id, { last_login_at: now });
    return now;
  }

  /** Whether this user is the earliest active admin (settles races for "the first account becomes admin"). */
  async isFirstAdmin(id: string): Promise<boolean> {
    return (await this.repo.firstAdminId()) === id;
  }

  async verifyPassword(user: UsersTable, password: string): Promise<boolean> {
    return this.hasher.verify(user.password_hash, password);
  }

  countActiveAdmins(): Promise<number> {
    return this.repo.countActiveAdmins();
  }

  private async emit(userId: string, change: Parameters<UserChangeListener>[1]): Promise<void> {
    for (const listener of this.#listeners) await listener(userId, change);
  }
}
