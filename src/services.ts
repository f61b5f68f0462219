import type { Redis } from 'ioredis';
import type { Config } from './config/index.js';
import { type Clock, systemClock } from './core/clock.js';
import { type IdGenerator, newId } from './core/ids.js';
import { ipInCidrs } from './core/ip.js';
import { deriveKey, SecretBox } from './core/secrets.js';
import {
  AUTO_DISABLE_PREFIX,
  type Catalog,
  type ChannelControl,
  createDataPlane,
  DetachedRunner,
  type Gateway,
  type HealthChecker,
  type HealthRegistry,
  registerBackgroundResponses,
} from './gateway/index.js';
import { type BlobStore, FileBlobStore } from './infra/blobs/index.js';
import type { DatabaseHandle } from './infra/db/client.js';
import { type Change, RedisChangeBus } from './infra/state/change-bus.js';
import { type CounterStore, MemoryCounterStore } from './infra/state/counters.js';
import { RedisCounterStore } from './infra/state/redis-counters.js';
import { createJobQueue, type JobQueue } from './jobs/index.js';
import { RelayLog } from './jobs/log.js';
import { AccessRepository } from './modules/access/repository.js';
import { AccessService } from './modules/access/service.js';
import { AccessRulesRepository } from './modules/access-rules/repository.js';
import { AccessRulesService } from './modules/access-rules/service.js';
import { type Alerts, createAlerts } from './modules/alerts/index.js';
import {
  AnalyticsRepository,
  AnalyticsService,
  HOUR_RETENTION_DAYS,
  MINUTE_RETENTION_DAYS,
  registerAnalyticsJobs,
} from './modules/analytics/index.js';
import { AuditRepository } from './modules/audit/repository.js';
import { AuditService, SYSTEM_ACTOR } from './modules/audit/service.js';
import { createArgon2Hasher, type PasswordHasher } from './modules/auth/passwords.js';
import { RefreshTokensRepository } from './modules/auth/repository.js';
import { AuthService } from './modules/auth/service.js';
import { RefreshSessions } from './modules/auth/sessions.js';
import { LoginThrottle } from './modules/auth/throttle.js';
import { AccessTokens } from './modules/auth/tokens.js';
import { registerBackupJobs } from './modules/backups/jobs.js';
import { type BatchApi, createBatchApi } from './modules/batches/index.js';
import { type Billing, createBilling } from './modules/billing/index.js';
import { ChannelsRepository } from './modules/channels/repository.js';
import { ChannelsService } from './modules/channels/service.js';
import { EmailTokensRepository } from './modules/email-auth/repository.js';
import { EmailAuthService } from './modules/email-auth/service.js';
import { InvitationsRepository } from './modules/invitations/repository.js';
import { InvitationsService } from './modules/invitations/service.js';
import { KeysRepository } from './modules/keys/repository.js';
import { KeysService } from './modules/keys/service.js';
import { KeyVerifier } from './modules/keys/verifier.js';
import { LimitEnforcer } from './modules/limits/enforcer.js';
import { PeriodClock } from './modules/limits/periods.js';
import { LimitsRepository } from './modules/limits/repository.js';
import { LimitsService } from './modules/limits/service.js';
import { Mailer } from './modules/mail/mailer.js';
import { ModelsRepository } from './modules/models/repository.js';
import { ModelsService } from './modules/models/service.js';
import { OrganizationsRepository } from './modules/organizations/repository.js';
import { OrganizationsService } from './modules/organizations/service.js';
import { createPayments, type Payments } from './modules/payments/index.js';
import { createResponseCache, registerResponseCacheJobs } from './modules/response-cache/index.js';
import { registerResponsesJobs } from './modules/responses/jobs.js';
import { ResponsesRepository } from './modules/responses/repository.js';
import { ResponsesStore } from './modules/responses/service.js';
import { SettingsRepository } from './modules/settings/repository.js';
import { SettingsService } from './modules/settings/service.js';
import { SsoFlow } from './modules/sso/flow.js';
import { OidcClients } from './modules/sso/oidc.js';
import { SsoRepository } from './modules/sso/repository.js';
import { SsoConnectionsService } from './modules/sso/service.js';
import { createStatements, registerStatementJobs, type StatementService } from './modules/statements/index.js';
import { TeamsRepository } from './modules/teams/repository.js';
import { TeamsService } from './modules/teams/service.js';
import { TwoFactorRepository } from './modules/two-factor/repository.js';
import { TwoFactorService } from './modules/two-factor/service.js';
import { registerExportJobs } from './modules/usage/exports.js';
import { PURGE_LOGS_JOB, registerRetentionJobs } from './modules/usage/jobs.js';
import { LogsService } from './modules/usage/logs.js';
import { UsageRecorder } from './modules/usage/recorder.js';
import { UsageRepository } from './modules/usage/repository.js';
import { LogRetention } from './modules/usage/retention.js';
import { UsageSummary } from './modules/usage/summary.js';
import { UsersRepository } from './modules/users/repository.js';
import { UsersService } from './modules/users/service.js';
import { createObservability, type Observability, type RequestTracing } from './observability/index.js';

/** Everything the app is built from. Tests build their own with a temp database and a fake clock. */
export interface Services {
  analytics: AnalyticsService;
  config: Config;
  database: DatabaseHandle;
  clock: Clock;
  newId: IdGenerator;
  secretBox: SecretBox;
  users: UsersService;
  auth: AuthService;
  twoFactor: TwoFactorService;
  access: AccessService;
  organizations: OrganizationsService;
  keys: KeysService;
  keyVerifier: KeyVerifier;
  audit: AuditService;
  settings: SettingsService;
  channels: ChannelsService;
  health: HealthRegistry;
  healthChecker: HealthChecker;
  models: ModelsService;
  catalog: Catalog;
  recorder: UsageRecorder;
  logs: LogsService;
  gateway: Gateway;
  limits: LimitsService;
  enforcer: LimitEnforcer;
  usageSummary: UsageSummary;
  retention: LogRetention;
  /** Stored Responses-API responses (`store`, `previous_response_id`). */
  responses: ResponsesStore;
  teams: TeamsService;
  accessRules: AccessRulesService;
  /** Single sign-on: connections and the sign-in flow. */
  sso: { connections: SsoConnectionsService; flow: SsoFlow };
  mailer: Mailer;
  emailAuth: EmailAuthService;
  invitations: InvitationsService;
  /** Wallets, ledger, redemption codes, list prices and prepaid admission. */
  billing: Billing;
  /** Stripe payments: Checkout top-ups and subscriptions, plans, the webhook. */
  payments: Payments;
  /** Monthly statements (CSV, PDF), credit notes and the revenue report. */
  statements: StatementService;
  /** Alert rules, destinations and history; evaluated and delivered by jobs. */
  alerts: Alerts;
  /** Tells other instances what this one changed (with Redis; none on a single instance). */
  changes: RedisChangeBus | undefined;
  /** The durable job queue: modules register their job types and schedules on it (src/jobs/). */
  jobs: JobQueue;
  /** Large payloads (batch files, exports): files under AIHUB_BLOB_DIR. */
  blobs: BlobStore;
  /** The OpenAI Files and Batch APIs. */
  batchApi: BatchApi;
  /** Where job handlers log; `startBackground` and `aihub worker` point it at their logger. */
  jobLog: RelayLog;
  /** Prometheus metrics and OpenTelemetry traces (each off unless configured). */
  observability: Observability;
  /** Release timers and pools (the app's onClose calls it). */
  close(): Promise<void>;
}

export interface ServiceOptions {
  config: Config;
  database: DatabaseHandle;
  secretKey: Buffer;
  redis?: Redis | undefined;
  clock?: Clock;
  newId?: IdGenerator;
  hasher?: PasswordHasher;
  /** Login throttle limits (tests lower them). */
  throttle?: { perIp?: number; perAccount?: number; windowSeconds?: number };
  /** Usage writer batching (tests flush by hand). */
  recorder?: { intervalMs?: number; batchSize?: number };
  /** Randomness for routing (tests inject it). */
  random?: () => number;
  /** Prefix of every Redis key (tests use their own). */
  redisPrefix?: string;
  /** Job queue timings (tests shorten the lease). */
  jobs?: { leaseMs?: number };
  /** Trace export, opened by the caller when OTEL_* configures it (see observability/openTracing). */
  tracing?: RequestTracing | undefined;
}

/** Wire the services together. Call `settings.load()` (done by `startServices`) before serving. */
export function createServices(options: ServiceOptions): Services {
  const { config, database } = options;
  const db = database.db;
  const clock = options.clock ?? systemClock;
  const ids = options.newId ?? ((prefix: string) => newId(prefix, clock.now()));
  const hasher = options.hasher ?? createArgon2Hasher();
  const audit = new AuditService(new AuditRepository(db), clock, ids);
  const access = new AccessService(new AccessRepository(db));
  const settings = new SettingsService(new SettingsRepository(db), clock, {
    registrationEnabled: config.allowRegistration,
  });
  const organizations = new OrganizationsService(new OrganizationsRepository(db), settings, clock, ids);
  const users = new UsersService(new UsersRepository(db), hasher, clock, ids);
  const keysRepo = new KeysRepository(db);
  const keyVerifier = new KeyVerifier(keysRepo, clock);
  const keys = new KeysService(keysRepo, users, keyVerifier, audit, clock, ids, () => settings.get().defaultKeyLimits);
  const secretBox = new SecretBox(deriveKey(options.secretKey, 'secrets-at-rest'));
  const twoFactor = new TwoFactorService({
    repo: new TwoFactorRepository(db),
    secretBox,
    clock,
    newId: ids,
    audit,
    users,
    issuer: 'AI Hub',
  });
  const auth = new AuthService({
    users,
    sessions: new RefreshSessions(new RefreshTokensRepository(db), clock, ids, config.refreshTokenTtlSeconds),
    tokens: new AccessTokens(deriveKey(options.secretKey, 'jwt'), config.accessTokenTtlSeconds),
    throttle: new LoginThrottle({ ...options.throttle, redis: options.redis, keyPrefix: options.redisPrefix }),
    audit,
    settings,
    hasher,
    clock,
    masterKey: config.masterKey,
    twoFactor,
  });
  const channels = new ChannelsService(new ChannelsRepository(db), secretBox, clock, ids);
  const modelsRepo = new ModelsRepository(db);
  const models = new ModelsService(modelsRepo, clock, ids);
  // SQLite writes synchronously: request logs are written from a worker thread, off the event loop.
  const recorder = new UsageRecorder(db, {
    ...options.recorder,
    sqliteFile: database.engine === 'sqlite' ? database.location : undefined,
  });
  const counters: CounterStore = options.redis
    ? new RedisCounterStore(options.redis, `${options.redisPrefix ?? 'aihub'}:c:`)
    : new MemoryCounterStore(() => clock.now());
  const limits = new LimitsService(new LimitsRepository(db), clock);
  users.onCreated(async (user) => {
    const defaults = settings.get().defaultUserLimits;
    if (Object.keys(defaults).length > 0) await limits.set('user', user.id, defaults);
  });
  const periods = new PeriodClock(settings.get().limitsTimeZone);
  settings.onChange((st) => periods.setTimeZone(st.limitsTimeZone));
  const enforcer = new LimitEnforcer({ counters, periods, clock, db, flushLog: () => recorder.flush() });
  const usageRepo = new UsageRepository(db);
  const responses = new ResponsesStore(new ResponsesRepository(db), clock, {
    retentionDays: () => settings.get().responsesRetentionDays,
  });
  const usageSummary = new UsageSummary(usageRepo, recorder, periods, clock);
  const teams = new TeamsService(new TeamsRepository(db), clock, ids);
  teams.onChanged((teamId, deleted) => {
    keyVerifier.invalidateTeam(teamId);
    if (deleted) limits.forget('team', teamId);
  });
  const ssoRepo = new SsoRepository(db);
  const oidcClients = new OidcClients(secretBox, clock);
  const ssoConnections = new SsoConnectionsService(ssoRepo, organizations, oidcClients, secretBox, clock, ids);
  const ssoFlow = new SsoFlow({
    repo: ssoRepo,
    clients: oidcClients,
    connections: ssoConnections,
    organizations,
    teams,
    users,
    audit,
    secrets: secretBox,
    clock,
    newId: ids,
    signIn: (user, context) => auth.signInVerified(user, context),
  });
  // Members of an SSO-only organization sign in through their IdP, not with a password.
  auth.addPasswordSignInCheck(ssoFlow.passwordCheck());
  organizations.onChange((change) => {
    if (change.kind === 'org') keyVerifier.invalidateOrg(change.orgId);
    else for (const keyId of change.revokedKeyIds) keyVerifier.invalidateKey(keyId);
  });
  // What the data plane decides about a channel by itself, stored and audited by the control plane.
  const channelControl: ChannelControl = {
    disable: async (channelId, reason) => {
      await channels.disable(channelId, `${AUTO_DISABLE_PREFIX}${reason}`);
      await audit.record({
        actor: SYSTEM_ACTOR,
        action: 'channel.auto_disable',
        targetType: 'channel',
        targetId: channelId,
        detail: { reason },
      });
    },
    enable: async (channelId, reason) => {
      await channels.update(channelId, { enabled: true });
      await audit.record({
        actor: SYSTEM_ACTOR,
        action: 'channel.auto_reenable',
        targetType: 'channel',
        targetId: channelId,
        detail: { reason },
      });
    },
  };
  const observability = createObservability({
    metrics:
      config.metrics.token !== undefined || config.metrics.port !== undefined || config.metrics.allowIps.length > 0,
    byOrganization: () => settings.get().metricsByOrganization,
    tracing: options.tracing,
  });
  const billing = createBilling({
    db,
    clock,
    newId: ids,
    audit,
    counters,
    limits: enforcer,
    log: recorder,
    settings: () => settings.get(),
    publicUrl: config.publicUrl,
    redis: options.redis,
    redisPrefix: options.redisPrefix,
    mail: (message) => mailer.send(message),
  });
  // A changed multiplier is priced from the next request on.
  organizations.onChange(() => void billing.service.load().catch(() => undefined));
  teams.onChanged(() => void billing.service.load().catch(() => undefined));
  const jobLog = new RelayLog();
  const responseCache = createResponseCache({
    db,
    clock,
    redis: options.redis,
    redisPrefix: options.redisPrefix,
    settings: () => {
      const st = settings.get();
      return {
        defaultTtlMs: st.responseCacheTtlSeconds * 1000,
        maxEntryBytes: st.responseCacheMaxEntryBytes,
        hitChargePercent: st.responseCacheHitChargePercent,
      };
    },
    log: jobLog,
  });
  const dataPlane = createDataPlane({
    cache: responseCache.cache,
    observer: observability.observer,
    catalog: {
      loadChannels: () => channels.loadWithSecrets(),
      listModels: () => modelsRepo.listAll(),
      listRoutes: () => modelsRepo.listRoutes(),
      listTagRoutes: () => modelsRepo.listTagRoutes(),
    },
    keys: keyVerifier,
    usage: billing.usage,
    admission: billing.admission,
    limits,
    channels: channelControl,
    settings: {
      exposeChannelHeader: () => settings.get().exposeChannelHeader,
      bodyCapture: () => {
        const { logBodies, logBodyMaxChars } = settings.get();
        return logBodies === 'off' ? undefined : { mode: logBodies, maxChars: logBodyMaxChars };
      },
      routingStrategy: () => settings.get().routingStrategy,
      maxAttempts: () => settings.get().maxAttempts,
      healthCheckIntervalSeconds: () => settings.get().healthCheckIntervalSeconds,
      autoReenableChannels: () => settings.get().autoReenableChannels,
      breaker: () => {
        const st = settings.get();
        return { failureThreshold: st.breakerFailureThreshold, cooldownMs: st.breakerCooldownSeconds * 1000 };
      },
    },
    clock,
    counters,
    random: options.random,
    masterKey: config.masterKey,
    ipAllowed: ipInCidrs,
  });
  const { catalog, gateway, health, healthChecker } = dataPlane;
  if (observability.metrics) {
    observability.metrics.watch({ catalog, health, usage: recorder, now: () => clock.now() });
    recorder.observeFlushes(observability.metrics.flushed);
  }
  channels.onChange(() => catalog.reload());
  models.onChange(() => catalog.reload());
  settings.onChange(() => dataPlane.settingsChanged());
  const accessRules = new AccessRulesService(new AccessRulesRepository(db), clock, ids);
  const mailer = new Mailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, clock, newId: ids });
  const emailAuth = new EmailAuthService({
    repo: new EmailTokensRepository(db),
    users,
    mailer,
    audit,
    // Reset and verification requests: per address and per IP, like sign-in attempts.
    throttle: new LoginThrottle({
      perIp: 30,
      perAccount: 5,
      windowSeconds: 900,
      redis: options.redis,
      keyPrefix: `${options.redisPrefix ?? 'aihub'}:mail`,
      what: 'requests for mail to this address or from this IP',
    }),
    clock,
    newId: ids,
  });
  const invitations = new InvitationsService({
    repo: new InvitationsRepository(db),
    organizations,
    teams,
    users,
    signIn: (user, context) => auth.signIn(user, context, 'invitation'),
    mailer,
    audit,
    clock,
    newId: ids,
  });
  /** Apply another instance's change here (without telling the others again). */
  const applyChange = (change: Change): Promise<unknown> | undefined => {
    switch (change.kind) {
      case 'settings':
        return settings.load();
      case 'catalog':
        return catalog.reload();
      case 'limits':
        return limits.load();
      case 'access-rules':
        return accessRules.load();
      case 'billing':
        return billing.service.load();
      case 'key':
        keyVerifier.invalidateKey(change.id, false);
        return undefined;
      case 'user':
        keyVerifier.invalidateUser(change.id, false);
        return undefined;
      case 'org':
        keyVerifier.invalidateOrg(change.id, false);
        return billing.service.load();
      case 'team':
        keyVerifier.invalidateTeam(change.id, false);
        limits.forget('team', change.id);
        return billing.service.load();
    }
  };
  // With several instances (Redis), what one changes the others reload at once.
  const changes = options.redis ? new RedisChangeBus(options.redis, options.redisPrefix ?? 'aihub') : undefined;
  if (changes) {
    const publish = (change: Change) => changes.publish(change);
    settings.onUpdate(() => publish({ kind: 'settings' }));
    channels.onChange(() => publish({ kind: 'catalog' }));
    models.onChange(() => publish({ kind: 'catalog' }));
    limits.onChange(() => publish({ kind: 'limits' }));
    accessRules.onChange(() => publish({ kind: 'access-rules' }));
    billing.service.onChange(() => publish({ kind: 'billing' }));
    keyVerifier.onInvalidate((what) => publish(what));
    changes.onRemote((change) => applyChange(change));
  }
  const jobs = createJobQueue({
    config,
    database,
    clock,
    newId: ids,
    log: jobLog,
    redisPrefix: options.redisPrefix,
    leaseMs: options.jobs?.leaseMs,
  });
  const retention = new LogRetention(usageRepo, clock, { retentionDays: () => settings.get().logRetentionDays });
  registerRetentionJobs(jobs, retention, jobLog, () => settings.load());
  registerAnalyticsJobs(jobs, db, clock, jobLog);
  registerResponsesJobs(jobs, responses, jobLog, () => settings.load());
  registerBackgroundResponses(jobs, {
    runner: new DetachedRunner(gateway, { store: responses, clock }),
    store: responses,
    clock,
  });
  registerBackupJobs(jobs, database, config.backups, jobLog);
  const payments = createPayments({
    db,
    clock,
    newId: ids,
    secretBox,
    env: config.stripe,
    billing: billing.service,
    organizations,
    limits,
    audit,
    jobs,
    jobLog,
    currency: () => settings.get().currency,
  });
  const statements = createStatements({
    db,
    clock,
    newId: ids,
    settings: () => settings.get(),
    flush: async () => {
      await recorder.flush();
      await billing.charger.flush();
    },
  });
  registerStatementJobs(jobs, statements, jobLog, () => settings.load());
  const alerts = createAlerts({
    db,
    clock,
    newId: ids,
    secrets: secretBox,
    jobs,
    log: jobLog,
    mail: (message) => mailer.deliver(message),
    publicUrl: config.publicUrl,
    sources: {
      breakerOpen: (channelId) => {
        const states = health.breakerStates(channelId);
        return states.closed === 0 && states.open + states.half_open > 0;
      },
      budgetOf: async (orgId) => {
        const usage = await usageSummary.forScope('org', orgId, limits.get('org', orgId));
        return { used: usage.spend.used, limit: usage.spend.limit };
      },
      backlog: () => recorder.pending,
      flushLog: () => recorder.flush(),
      currency: () => settings.get().currency,
    },
  });
  const blobs = new FileBlobStore(config.batch.blobDir);
  const logs = new LogsService(usageRepo, () => recorder.flush());
  registerExportJobs(jobs, { logs, blobs });
  const batchApi = createBatchApi({
    db,
    blobs,
    gateway,
    responses,
    jobs,
    clock,
    newId: ids,
    limits: config.batch,
  });
  registerResponseCacheJobs(jobs, responseCache.store, jobLog);
  return {
    config,
    database,
    clock,
    newId: ids,
    secretBox,
    users,
    auth,
    twoFactor,
    access,
    organizations,
    keys,
    keyVerifier,
    audit,
    settings,
    channels,
    health,
    healthChecker,
    models,
    catalog,
    recorder,
    logs,
    analytics: new AnalyticsService({
      repo: new AnalyticsRepository(db),
      clock,
      newId: ids,
      retention: { minuteDays: MINUTE_RETENTION_DAYS, hourDays: HOUR_RETENTION_DAYS },
      flush: () => recorder.flush(),
    }),
    gateway,
    limits,
    enforcer,
    usageSummary,
    retention,
    responses,
    teams,
    accessRules,
    sso: { connections: ssoConnections, flow: ssoFlow },
    mailer,
    emailAuth,
    invitations,
    billing,
    payments,
    statements,
    alerts,
    changes,
    jobs,
    jobLog,
    blobs,
    batchApi,
    observability,
    close: async () => {
      healthChecker.stop();
      await jobs.stop(config.shutdownTimeoutMs);
      await mailer.close();
      await changes?.close();
      // Requests still settling (a stream's row follows its upstream's end) are waited for, within the
      // shutdown timeout, so their rows are written before the database closes.
      await recorder.close({ waitMs: config.shutdownTimeoutMs });
      await responses.drain();
      await billing.close();
      await dataPlane.close();
      await observability.close();
    },
  };
}

/** Load what the services keep in memory (settings, the gateway catalog) before serving. */
export async function startServices(services: Services): Promise<void> {
  await services.settings.load();
  await services.catalog.reload();
  await services.limits.load();
  await services.accessRules.load();
  await services.billing.service.load();
  await services.changes?.start();
}

/**
 * How often each instance re-reads what other instances may have changed. With Redis the change bus tells
 * them at once; this is the safety net for a message lost while an instance was disconnected.
 */
const REFRESH_MS = 60_000;
/** Where background work reports (pino's `app.log` fits). */
export interface BackgroundLog {
  info(detail: Record<string, unknown>, message: string): void;
  debug(detail: Record<string, unknown>, message: string): void;
  error(detail: Record<string, unknown>, message: string): void;
}

/**
 * Start background work: health checks, re-reading shared configuration, and the job queue's workers (the
 * request-log purge is one of its jobs). Tests call it when they want it. The returned function stops it all
 * and lets running jobs finish (or puts them back in the queue) within the shutdown timeout.
 */
export function startBackground(
  services: Services,
  options: { log?: BackgroundLog } = {},
): (jobGraceMs?: number) => Promise<void> {
  const { log } = options;
  if (log) {
    services.recorder.reportErrorsTo((error, pending) =>
      log.error(
        { err: error, pending, dropped: services.recorder.dropped },
        services.recorder.closed
          ? 'request log rows lost at shutdown (see err)'
          : 'writing the request log failed; the rows are kept and retried',
      ),
    );
  }
  services.billing.charger.reportErrorsTo((error) =>
    log?.error({ err: error }, 'writing usage charges to the ledger failed; they are kept and retried'),
  );
  services.billing.notifier.reportErrorsTo((error) => log?.error({ err: error }, 'a low-balance notice failed'));
  services.changes?.reportErrorsTo((error) =>
    log?.error({ err: error }, 'telling other instances of a change, or applying theirs, failed'),
  );
  services.responses.reportErrorsTo((error) => log?.error({ err: error }, 'storing a Responses-API response failed'));
  services.healthChecker.start();
  const refresh = setInterval(() => {
    void Promise.all([
      services.settings.load(),
      services.catalog.reload(),
      services.limits.load(),
      services.accessRules.load(),
      services.billing.service.load(),
    ]).catch(() => undefined);
  }, REFRESH_MS);
  refresh.unref();
  // Jobs: the request-log purge (once now, then hourly by its schedule) and whatever else modules registered.
  services.jobLog.use(log);
  const jobsStarted = startJobs(services, { workers: services.config.jobs.workers }, log);
  return async (jobGraceMs = services.config.shutdownTimeoutMs) => {
    services.healthChecker.stop();
    clearInterval(refresh);
    await jobsStarted;
    await services.jobs.stop(jobGraceMs);
  };
}

/**
 * Store the schedules, start the workers (unless `workers` is false) and queue one request-log purge, as a
 * server or `aihub worker` starts. Failures are logged, not thrown: the gateway serves without its jobs.
 */
export async function startJobs(
  services: Services,
  options: { workers: boolean },
  log: BackgroundLog | undefined,
): Promise<void> {
  try {
    await services.jobs.start({ workers: options.workers });
    await services.jobs.enqueue(PURGE_LOGS_JOB, null);
  } catch (error) {
    log?.error({ err: error }, 'starting the job queue failed');
  }
}
