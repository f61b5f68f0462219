/**
 * Table types. Times are epoch milliseconds (integers), money is micro-USD (integers),
 * JSON columns are text holding JSON (portable between SQLite and PostgreSQL).
 */
export interface OrganizationsTable {
  id: string;
  name: string;
  slug: string;
  created_at: number;
  updated_at: number;
}

export interface TeamsTable {
  id: string;
  org_id: string;
  name: string;
  created_at: number;
  updated_at: number;
}

export type UserRole = 'admin' | 'user';
export type UserStatus = 'active' | 'disabled';

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  role: UserRole;
  status: UserStatus;
  org_id: string;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
  password_changed_at: number;
}

export type MembershipRole = 'owner' | 'admin' | 'member';

export interface MembershipsTable {
  id: string;
  user_id: string;
  org_id: string;
  team_id: string | null;
  role: MembershipRole;
  created_at: number;
}

export type KeyStatus = 'active' | 'disabled' | 'revoked';

export interface ApiKeysTable {
  id: string;
  user_id: string;
  org_id: string;
  team_id: string | null;
  name: string;
  key_hash: string;
  hint: string;
  status: KeyStatus;
  expires_at: number | null;
  created_at: number;
  updated_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  /** JSON array of model names / wildcards; null = all. */
  allowed_models: string | null;
  /** JSON array of CIDRs; null = any. */
  allowed_ips: string | null;
  budget_micros: number | null;
  budget_period: string | null;
  token_quota: number | null;
  token_quota_period: string | null;
  rpm: number | null;
  tpm: number | null;
  max_concurrency: number | null;
  /** JSON object of free-form labels. */
  metadata: string | null;
}

export interface RefreshTokensTable {
  id: string;
  family_id: string;
  user_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  /** Set when the token was exchanged for a new one; presenting it again is reuse. */
  rotated_at: number | null;
  revoked_at: number | null;
  ip: string | null;
  user_agent: string | null;
}

export type ActorType = 'user' | 'master_key' | 'system' | 'anonymous';

export interface AuditLogsTable {
  id: string;
  at: number;
  actor_type: ActorType;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  /** JSON object with action details (never secrets). */
  detail: string | null;
}

export interface SettingsTable {
  key: string;
  /** JSON value. */
  value: string;
  updated_at: number;
}

export interface Database {
  organizations: OrganizationsTable;
  teams: TeamsTable;
  users: UsersTable;
  memberships: MembershipsTable;
  api_keys: ApiKeysTable;
  refresh_tokens: RefreshTokensTable;
  audit_logs: AuditLogsTable;
  settings: SettingsTable;
}
