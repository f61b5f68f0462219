/**
 * Table types. Times are epoch milliseconds (integers), money is micro-USD (integers),
 * JSON columns are text holding JSON (portable between SQLite and PostgreSQL).
 */
export interface OrganizationsTable {
  id: string;
  name: string;
  slug: string;
  status: 'active' | 'disabled';
  /** JSON array of model names / `prefix*` wildcards the organization may use; null = all. */
  allowed_models: string | null;
  /** Price multiplier in parts per million (1.25 × = 1_250_000); null = 1. Read by billing. */
  price_multiplier_ppm: number | null;
  /** JSON array of channel groups whose channels may serve the organization; null = every channel. */
  channel_groups: string | null;
  /** The pricing group (migration 0025) its prices follow; null = none. */
  pricing_group_id?: string | null;
  /** 1 when every member must use two-factor authentication. */
  require_2fa: number;
  /** The user who created it (self-serve), null for the Default organization and platform-made ones. */
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface TeamsTable {
  id: string;
  org_id: string;
  name: string;
  description: string | null;
  /** JSON array of model names / wildcards the team's keys may use (within the organization's); null = all. */
  allowed_models: string | null;
  /** Overrides the organization's multiplier for the team's usage; null = the organization's. */
  price_multiplier_ppm: number | null;
  /** JSON array of channel groups the team's keys may use (within the organization's); null = all. */
  channel_groups: string | null;
  /** The pricing group (migration 0025) the team's usage is priced by; null = the organization's. */
  pricing_group_id?: string | null;
  created_at: number;
  updated_at: number;
}

/** A role of an organization: an override of a built-in role (same key) or a custom one. */
export interface RolesTable {
  id: string;
  org_id: string;
  key: string;
  name: string;
  description: string | null;
  /** JSON array of organization permission names. */
  permissions: string;
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
  email_verified_at: number | null;
  /** Access tokens issued before this instant (ms) are refused ("sign out everywhere"). */
  sessions_valid_after: number;
}

/**
 * A user's place in an organization (team_id null; role = a role key of the organization) or in one of its
 * teams (role = 'admin' | 'member').
 */
export interface MembershipsTable {
  id: string;
  user_id: string;
  org_id: string;
  team_id: string | null;
  role: string;
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
  /** 1: answers to this key's requests are cached (docs/response-cache.md); 0 or null: only on request. */
  response_cache: number | null;
  budget_micros: number | null;
  budget_period: string | null;
  token_quota: number | null;
  token_quota_period: string | null;
  rpm: number | null;
  tpm: number | null;
  max_concurrency: number | null;
  /** JSON object of free-form labels. */
  metadata: string | null;
  /** 1 for a service key owned by its team (user_id is its creator); it survives the creator leaving. */
  team_owned: number;
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
  /** The organization the action concerns; null for instance-wide actions (channels, settings). */
  org_id: string | null;
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

export interface LimitPoliciesTable {
  scope_type: 'user' | 'team' | 'org';
  scope_id: string;
  budget_micros: number | null;
  budget_period: string | null;
  token_quota: number | null;
  token_quota_period: string | null;
  rpm: number | null;
  tpm: number | null;
  max_concurrency: number | null;
  updated_at: number;
}

export interface IpRulesTable {
  id: string;
  scope: 'v1' | 'api';
  action: 'allow' | 'deny';
  cidr: string;
  note: string | null;
  created_at: number;
  created_by: string | null;
}

/** The hub's ACME certificate (one row, id 'default'); private keys encrypted with the master key. */
export interface AcmeCertificatesTable {
  id: string;
  /** JSON array of the names the certificate covers. */
  domains: string;
  directory_url: string;
  /** Encrypted PEM of the ACME account key. */
  account_key: string | null;
  cert_pem: string | null;
  /** Encrypted PEM of the certificate's private key. */
  key_pem: string | null;
  issuer: string | null;
  not_before: number | null;
  not_after: number | null;
  renewed_at: number | null;
  last_attempt_at: number | null;
  last_error: string | null;
  /** Failed attempts since the last success. */
  failures: number;
  /** The instance renewing now, and until when its lease holds. */
  lease_holder: string | null;
  lease_until: number | null;
  updated_at: number;
}

/** HTTP-01 challenges being answered: token → key authorization. */
export interface AcmeChallengesTable {
  token: string;
  key_authorization: string;
  expires_at: number;
}

/** A user's TOTP authenticator: pending (enabled_at null) from setup until a first code confirms it. */
export interface UserTwoFactorTable {
  user_id: string;
  /** The Base32 TOTP secret, sealed with the SecretBox. */
  secret: string;
  enabled_at: number | null;
  /** The last accepted TOTP time step (replay protection). */
  last_used_step: number | null;
  created_at: number;
  updated_at: number;
}

/** A single-use recovery code (SHA-256 of its normalised text). */
export interface RecoveryCodesTable {
  id: string;
  user_id: string;
  code_hash: string;
  used_at: number | null;
  created_at: number;
}

/** Between a correct password and a session: the second step of a sign-in with 2FA (token stored hashed). */
export interface LoginChallengesTable {
  id: string;
  token_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  /** Wrong codes tried against this challenge. */
  attempts: number;
}

export interface Database {
  organizations: OrganizationsTable;
  teams: TeamsTable;
  roles: RolesTable;
  users: UsersTable;
  memberships: MembershipsTable;
  api_keys: ApiKeysTable;
  refresh_tokens: RefreshTokensTable;
  audit_logs: AuditLogsTable;
  settings: SettingsTable;
  channels: ChannelsTable;
  channel_keys: ChannelKeysTable;
  models: ModelsTable;
  model_routes: ModelRoutesTable;
  model_tag_routes: ModelTagRoutesTable;
  request_logs: RequestLogsTable;
  limit_policies: LimitPoliciesTable;
  ip_rules: IpRulesTable;
  acme_certificates: AcmeCertificatesTable;
  acme_challenges: AcmeChallengesTable;
  sso_connections: SsoConnectionsTable;
  user_identities: UserIdentitiesTable;
  sso_states: SsoStatesTable;
  user_two_factor: UserTwoFactorTable;
  recovery_codes: RecoveryCodesTable;
  login_challenges: LoginChallengesTable;
  email_tokens: EmailTokensTable;
  invitations: InvitationsTable;
  responses: ResponsesTable;
  jobs: JobsTable;
  job_dependencies: JobDependenciesTable;
  job_schedules: JobSchedulesTable;
  wallets: WalletsTable;
  wallet_transactions: WalletTransactionsTable;
  member_wallets: MemberWalletsTable;
  redemption_batches: RedemptionBatchesTable;
  redemption_codes: RedemptionCodesTable;
  redemption_uses: RedemptionUsesTable;
  stripe_customers: StripeCustomersTable;
  billing_plans: BillingPlansTable;
  org_subscriptions: OrgSubscriptionsTable;
  stripe_events: StripeEventsTable;
  stripe_invoices: StripeInvoicesTable;
  pricing_groups: PricingGroupsTable;
  statements: StatementsTable;
  alert_destinations: AlertDestinationsTable;
  alert_rules: AlertRulesTable;
  alert_states: AlertStatesTable;
  alert_events: AlertEventsTable;
  files: FilesTable;
  batches: BatchesTable;
  batch_results: BatchResultsTable;
  analytics_minute: AnalyticsRollupTable;
  analytics_hour: AnalyticsRollupTable;
  analytics_day: AnalyticsRollupTable;
  analytics_narrow_minute: AnalyticsNarrowRollupTable;
  analytics_narrow_hour: AnalyticsNarrowRollupTable;
  analytics_narrow_day: AnalyticsNarrowRollupTable;
  analytics_views: AnalyticsViewsTable;
  response_cache: ResponseCacheTable;
}

export type ChannelStatus = 'active' | 'disabled';

export interface ChannelsTable {
  id: string;
  name: string;
  /** Provider id from src/providers/registry.ts. */
  type: string;
  base_url: string | null;
  status: ChannelStatus;
  /** Why the channel is disabled (by an admin or automatically). */
  disabled_reason: string | null;
  /** JSON ChannelOptions: headers, timeouts, model mapping, provider options. */
  options: string;
  /** JSON array of the groups the channel is in (organizations and teams may be limited to groups). */
  groups: string;
  /** JSON array of labels: console filters, and model routes that name a tag instead of a channel. */
  tags: string;
  /** JSON ChannelBalance last fetched from the upstream account (null: never). */
  balance: string | null;
  /** When `balance` was fetched (epoch ms). */
  balance_at: number | null;
  priority: number;
  weight: number;
  created_at: number;
  updated_at: number;
}

export interface ChannelKeysTable {
  id: string;
  channel_id: string;
  /** AES-256-GCM sealed provider key (core/secrets.ts SecretBox). */
  secret_enc: string;
  hint: string;
  status: 'active' | 'disabled';
  created_at: number;
}

export interface ModelsTable {
  id: string;
  /** Public model name clients send. */
  name: string;
  description: string | null;
  status: 'active' | 'disabled';
  /** micro-USD per 1M tokens. */
  input_price: number;
  output_price: number;
  cached_input_price: number | null;
  context_window: number | null;
  max_output_tokens: number | null;
  /** JSON array of capability names (chat, vision, tools, reasoning, embeddings, ...). */
  capabilities: string;
  /** Routing strategy (weighted, round_robin, lowest_latency, least_inflight); null = instance default. */
  strategy: string | null;
  /** JSON array of model names to fall back to. */
  fallback_models: string | null;
  /** Discount on this model's prices for batch lines, percent (0–100). */
  batch_discount_percent?: number;
  created_at: number;
  updated_at: number;
  /** JSON object of per-unit prices (see gateway/unit-prices.ts); null = token prices only. Migration 0019. */
  unit_prices?: string | null;
  /** Answers for this model are cached this many seconds (docs/response-cache.md); null = only on request. */
  cache_ttl_seconds: number | null;
}

export interface ModelRoutesTable {
  id: string;
  model_id: string;
  channel_id: string;
  /** Model name the upstream expects; null = the public name. */
  upstream_model: string | null;
  priority: number;
  weight: number;
  created_at: number;
}

/** A model route to every channel with a tag (expanded when the catalog is built). */
export interface ModelTagRoutesTable {
  id: string;
  model_id: string;
  tag: string;
  upstream_model: string | null;
  priority: number;
  weight: number;
  created_at: number;
}

export interface RequestLogsTable {
  id: string;
  at: number;
  user_id: string | null;
  key_id: string | null;
  org_id: string | null;
  team_id: string | null;
  channel_id: string | null;
  model: string;
  upstream_model: string | null;
  endpoint: string;
  stream: number;
  status: number;
  error_code: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  /** 1 when tokens were counted locally because the upstream gave no usage. */
  estimated: number;
  /** Upstream cost (the model's price): what the operator pays. */
  cost_micros: number;
  /** List price: what the customer pays (cost × the team's or organization's multiplier). */
  price_micros: number;
  latency_ms: number;
  ttft_ms: number | null;
  client_ip: string | null;
  /** JSON array of failed attempts before the final one: [{channelId, error, ms}]. */
  attempts: string | null;
  /** Stored only when the admin enables it (size-capped). */
  request_body: string | null;
  response_body: string | null;
  /** The batch whose line this request was (null for a request of its own). */
  batch_id?: string | null;
  /** `hit` when the response cache answered, `miss` when it was asked and stored the answer; null otherwise. */
  cache: string | null;
}

/** An OpenID Connect connection: one organization's (org_id), or instance-wide (org_id null). */
export interface SsoConnectionsTable {
  id: string;
  org_id: string | null;
  name: string;
  /** The IdP's issuer URL (discovery at `/.well-known/openid-configuration`). */
  issuer: string;
  client_id: string;
  /** Sealed with the SecretBox; null for a public client (PKCE only). */
  client_secret: string | null;
  /** Space-separated scopes. */
  scopes: string;
  /** JSON array of lower-case email domains the connection serves. */
  email_domains: string;
  /** JSON array of claim mapping rules (src/modules/sso/mapping.ts). */
  mappings: string;
  /** Organization role given to members the mapping names no role for. */
  default_role: string;
  /** 1 = create an account at the first sign-in of an unknown person. */
  jit: number;
  /** 1 = the organization's members may not sign in with a password (platform admins excepted). */
  sso_only: number;
  enabled: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

/** A user's subject at a connection's IdP. */
export interface UserIdentitiesTable {
  id: string;
  user_id: string;
  connection_id: string;
  subject: string;
  email: string | null;
  created_at: number;
  last_login_at: number | null;
}

/** A sign-in in flight (or a test sign-in and its result), single use. */
export interface SsoStatesTable {
  /** sha256 of the state parameter. */
  id: string;
  connection_id: string;
  mode: 'signin' | 'test';
  /** sha256 of the browser-binding cookie set when the flow started. */
  binding_hash: string;
  /** The PKCE code verifier, sealed. */
  code_verifier: string;
  nonce: string;
  redirect_uri: string;
  return_to: string | null;
  /** The admin running a test sign-in. */
  user_id: string | null;
  /** A test sign-in's result (JSON). */
  result: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export type EmailTokenPurpose = 'verify_email' | 'password_reset';

/** A single-use emailed link (email verification, password reset); only the token's SHA-256 is stored. */
export interface EmailTokensTable {
  id: string;
  purpose: EmailTokenPurpose;
  user_id: string;
  /** The address the link was sent to (a verification is for this address only). */
  email: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** An invitation to an organization (and optionally one of its teams) with a role; the token is hashed. */
export interface InvitationsTable {
  id: string;
  org_id: string;
  email: string;
  /** A role key of the organization. */
  role: string;
  team_id: string | null;
  team_role: 'admin' | 'member' | null;
  token_hash: string;
  invited_by: string | null;
  created_at: number;
  /** When the current link was sent (a resend replaces the token and the expiry). */
  sent_at: number;
  expires_at: number;
  accepted_at: number | null;
  accepted_by: string | null;
  revoked_at: number | null;
}

/** A stored Responses-API response (migration 0018): tenant-owned, scoped by organization and key. */
export interface ResponsesTable {
  id: string;
  org_id: string | null;
  key_id: string | null;
  user_id: string | null;
  /** The public model name the client asked for. */
  model: string;
  status: string;
  channel_id: string | null;
  provider_key_id: string | null;
  /** 1 when the upstream served /responses itself and holds the conversation (follow-ups stick to it). */
  native: number;
  previous_response_id: string | null;
  /** JSON array: this request's input items. */
  input: string;
  /** JSON: the response object. */
  response: string;
  created_at: number;
  /** The job running a background response (migration 0030); null for the others. */
  job_id: string | null;
}

/** A job of the embedded queue (src/jobs/embedded/). JSON columns hold JSON text. */
export interface JobsTable {
  id: string;
  type: string;
  /** queued | waiting (for parents) | running | succeeded | failed (dead letter) | cancelled */
  state: string;
  /** The organization it belongs to; null for the instance's own work (retention, schedules). */
  org_id: string | null;
  /** The user who started it (exports, batches); null for system jobs. */
  user_id: string | null;
  payload: string;
  result: string | null;
  error: string | null;
  /** Higher runs first. */
  priority: number;
  /** Attempts started so far. */
  attempts: number;
  max_attempts: number;
  timeout_ms: number | null;
  /** Not claimed before this instant (delayed jobs, backoff). */
  run_at: number;
  /** A running job whose lease passed is taken back (its worker died). */
  lease_until: number | null;
  worker_id: string | null;
  progress: number;
  progress_message: string | null;
  cancel_requested: number;
  schedule_name: string | null;
  unique_key: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

export interface JobDependenciesTable {
  job_id: string;
  parent_id: string;
}

/** A recurring schedule: platform-wide (declared in code by the module that owns the job type). */
export interface JobSchedulesTable {
  name: string;
  type: string;
  cron: string;
  payload: string;
  enabled: number;
  next_run_at: number;
  last_run_at: number | null;
  created_at: number;
  updated_at: number;
}

/** An organization's wallet: its billing mode and the cached sum of its ledger (`wallet_transactions`). */
export interface WalletsTable {
  org_id: string;
  /** Always the sum of the organization's `wallet_transactions.amount_micros` (`aihub billing verify`). */
  balance_micros: number;
  billing_mode: 'postpaid' | 'prepaid';
  /** JSON array of balances (micro-units) below which the organization is told, once per crossing. */
  low_balance_thresholds: string | null;
  /** The lowest threshold told about since the balance was last above it (null: every threshold armed). */
  low_balance_notified_micros: number | null;
  /** Where low-balance notices are POSTed (besides mail to the owners and billing managers). */
  low_balance_webhook_url: string | null;
  created_at: number;
  updated_at: number;
}

export type WalletTransactionKind =
  | 'top_up'
  | 'redemption'
  | 'subscription_grant'
  | 'usage'
  | 'refund'
  | 'adjustment'
  | 'expiry';

/** One entry of an organization's ledger: append-only, never updated or deleted. */
/** A team's or a user's wallet inside an organization (setting billingMemberWallets). */
export interface MemberWalletsTable {
  id: string;
  org_id: string;
  owner_type: 'team' | 'user';
  /** The team's id, or the user's. */
  owner_id: string;
  /** Always the sum of its `wallet_transactions` (wallet_id = id). */
  balance_micros: number;
  created_at: number;
  updated_at: number;
}

export interface WalletTransactionsTable {
  id: string;
  org_id: string;
  /** A team or user wallet's entry (member_wallets.id); null/absent: the organization's wallet. */
  wallet_id?: string | null;
  kind: WalletTransactionKind;
  /** Positive credits, negative debits (micro-units of the instance currency). */
  amount_micros: number;
  balance_after_micros: number;
  /** Unique external reference (a payment's event id, a redemption, a usage batch): a replay credits once. */
  reference: string | null;
  /** Why (required for manual adjustments). */
  reason: string | null;
  /** Who: a user id, `master` or `system`. */
  actor: string | null;
  /** JSON detail (a usage batch's request count and period, a code's batch). */
  detail: string | null;
  created_at: number;
}

/** A batch of redemption codes made by a platform admin (platform-wide: any organization may redeem). */
export interface RedemptionBatchesTable {
  id: string;
  name: string;
  prefix: string;
  amount_micros: number;
  code_count: number;
  /** Redemptions each code allows (each by a different organization). */
  max_uses: number;
  expires_at: number | null;
  status: 'active' | 'disabled';
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface RedemptionCodesTable {
  id: string;
  batch_id: string;
  code: string;
  uses: number;
  created_at: number;
}

/** One successful redemption of a code by an organization (unique per code and organization). */
export interface RedemptionUsesTable {
  id: string;
  code_id: string;
  org_id: string;
  user_id: string | null;
  transaction_id: string;
  created_at: number;
}

/** The Stripe customer that pays for an organization (one per organization). */
export interface StripeCustomersTable {
  org_id: string;
  customer_id: string;
  created_at: number;
}

/** A subscription plan offered to organizations (platform-wide; defined by platform admins). */
export interface BillingPlansTable {
  id: string;
  name: string;
  description: string | null;
  interval: 'month' | 'year';
  /** What one period costs, in micro-units of `currency`. */
  price_micros: number;
  /** The instance currency when the plan was made (ISO 4217, upper case). */
  currency: string;
  stripe_price_id: string;
  stripe_product_id: string | null;
  /** Credited to the wallet on every paid invoice of the plan. */
  included_credits_micros: number;
  /** Tokens per period while subscribed (set as the organization's token quota); null = none. */
  token_quota: number | null;
  /** JSON array of model patterns while subscribed; null = leave the organization's as they are. */
  allowed_models: string | null;
  /** JSON array of channel groups while subscribed; null = leave the organization's as they are. */
  channel_groups: string | null;
  status: 'active' | 'archived';
  created_at: number;
  updated_at: number;
}

/** A pricing group (platform-wide): a multiplier and per-model overrides that organizations and teams follow. */
export interface PricingGroupsTable {
  id: string;
  name: string;
  /** The group's multiplier in parts per million (1.25 × = 1_250_000). */
  multiplier_ppm: number;
  /** JSON array of per-model overrides: `{model, multiplierPpm}` or `{model, inputPrice, outputPrice, cachedInputPrice}`. */
  overrides: string;
  created_at: number;
  updated_at: number;
}

/** An organization's Stripe subscription (at most one). */
export interface OrgSubscriptionsTable {
  org_id: string;
  plan_id: string;
  subscription_id: string;
  /** Stripe's subscription status (active, trialing, past_due, canceled, unpaid, incomplete, ...). */
  status: string;
  current_period_end: number | null;
  cancel_at_period_end: number;
  /** A failed payment keeps the plan until then; the downgrade job ends it after. */
  grace_until: number | null;
  /** JSON of the organization's access before the plan (restored on downgrade). */
  previous_access: string | null;
  created_at: number;
  updated_at: number;
}

/** A Stripe webhook event already processed (its id is unique: a replay is not acted on again). */
export interface StripeEventsTable {
  event_id: string;
  type: string;
  org_id: string | null;
  /** What was done: credited, granted, ignored, unknown_customer, currency_mismatch, ... */
  outcome: string;
  created_at: number;
}

/** A Stripe invoice of an organization's subscription, as last reported by Stripe. */
export interface StripeInvoicesTable {
  id: string;
  org_id: string;
  subscription_id: string | null;
  number: string | null;
  status: string;
  amount_micros: number;
  currency: string;
  hosted_invoice_url: string | null;
  period_start: number | null;
  period_end: number | null;
  created_at: number;
  updated_at: number;
}

export type StatementKind = 'statement' | 'corrected' | 'credit_note';

/** An issued statement, corrected statement or credit note: numbered and never changed once written. */
export interface StatementsTable {
  id: string;
  /** Sequential per instance: the number's last part. */
  seq: number;
  /** `AIH-<year>-<seq, 6 digits>`. */
  number: string;
  org_id: string;
  /** Set on a team's (chargeback) statement. */
  team_id: string | null;
  kind: StatementKind;
  /** `YYYY-MM` (UTC). */
  period: string;
  period_start: number;
  period_end: number;
  currency: string;
  /** What the document bills (taxes excluded; negative for a credit note). */
  total_micros: number;
  /** The document a corrected statement or credit note refers to. */
  corrects_id: string | null;
  reason: string | null;
  /** JSON StatementContent (src/modules/statements/content.ts), frozen at issue time. */
  content: string;
  /** `<org>:<team or ->:<period>` for regular statements (one per period); null for corrections. */
  unique_key: string | null;
  issued_by: string | null;
  issued_at: number;
}

/** Where alerts are delivered (platform-wide). */
export interface AlertDestinationsTable {
  id: string;
  name: string;
  kind: 'webhook' | 'slack' | 'email';
  /** Webhook URL, or comma-separated email addresses; for Slack only the host (its URL is the secret). */
  target: string;
  /** Sealed with the SecretBox: the webhook's HMAC secret or the Slack incoming-webhook URL. */
  secret: string | null;
  enabled: number;
  created_at: number;
  updated_at: number;
}

/** An alert rule (platform-wide; budget and balance rules may name one organization). */
export interface AlertRulesTable {
  id: string;
  name: string;
  kind: string;
  threshold: number;
  window_minutes: number;
  min_samples: number;
  organization_id: string | null;
  channel_id: string | null;
  /** JSON array of alert destination ids. */
  destination_ids: string;
  enabled: number;
  created_by: string | null;
  created_at: number;
  updated_at: number;
}

/** Whether one rule is firing for one subject (a channel, an organization, or `all`). */
export interface AlertStatesTable {
  rule_id: string;
  subject: string;
  state: 'firing' | 'ok';
  value: number | null;
  since: number;
  updated_at: number;
}

/** The history: one row per firing and per resolution. */
export interface AlertEventsTable {
  id: string;
  rule_id: string;
  rule_name: string;
  kind: string;
  subject: string;
  subject_name: string | null;
  state: 'firing' | 'resolved';
  value: number | null;
  threshold: number;
  message: string;
  organization_id: string | null;
  at: number;
}

/** A file of the OpenAI Files API (its bytes are in the BlobStore under `files/<id>`). */
export interface FilesTable {
  id: string;
  org_id: string;
  key_id: string | null;
  user_id: string | null;
  filename: string;
  /** `batch` (uploaded input), `batch_output` (a batch's output or error file). */
  purpose: string;
  bytes: number;
  /** JSONL lines (input files). */
  lines: number | null;
  /** `processed` once stored whole. */
  status: string;
  created_at: number;
  expires_at: number | null;
}

/** A batch of the OpenAI Batch API, with its progress (the counts are its job's checkpoint). */
export interface BatchesTable {
  id: string;
  org_id: string;
  key_id: string;
  user_id: string | null;
  job_id: string | null;
  endpoint: string;
  input_file_id: string;
  output_file_id: string | null;
  error_file_id: string | null;
  completion_window: string;
  status: string;
  total: number;
  completed: number;
  failed: number;
  /** JSON object of the client's metadata. */
  metadata: string | null;
  /** JSON `{ object: 'list', data: [...] }` when validation failed the batch. */
  errors: string | null;
  client_ip: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
}

/** One finished line of a batch: its output (ok = 1) or error line, JSON text, until the files are written. */
export interface BatchResultsTable {
  batch_id: string;
  line: number;
  ok: number;
  body: string;
}

/**
 * A rollup of the request log (src/modules/analytics/rollup.ts): one bucket (epoch ms, UTC-aligned) of one
 * group; dimensions a request has none of are ''. `lat_00`…`lat_39` and `ttft_00`…`ttft_39` are histogram
 * bucket counts (src/modules/analytics/histogram.ts).
 */
export interface AnalyticsRollupTable {
  bucket: number;
  org_id: string;
  team_id: string;
  user_id: string;
  key_id: string;
  model: string;
  channel_id: string;
  status_class: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  cost_micros: number;
  price_micros: number;
  latency_ms_sum: number;
  /** Requests answered from the response cache, and those that asked it in vain (migration 0027). */
  cache_hits: number;
  cache_misses: number;
  [histogram: `lat_${number}` | `ttft_${number}`]: number;
}

/** A narrow rollup (migration 0027): the same without the key and user dimensions. */
export type AnalyticsNarrowRollupTable = Omit<AnalyticsRollupTable, 'user_id' | 'key_id'>;

/** A user's saved view of the analytics page: its query string parameters as JSON. */
export interface AnalyticsViewsTable {
  id: string;
  org_id: string;
  user_id: string;
  name: string;
  query: string;
  created_at: number;
}

/** A cached answer (docs/response-cache.md): `key` hashes organization, endpoint, model and body. */
export interface ResponseCacheTable {
  key: string;
  org_id: string | null;
  /** The answer as sent: a JSON body, or a stream's SSE text. */
  body: string;
  /** JSON: content type, whether it is a stream, the tokens the original request used. */
  meta: string;
  size: number;
  created_at: number;
  expires_at: number;
}
