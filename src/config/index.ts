import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { formatCidr, parseCidr } from '../core/ip.js';
import { cronProblem } from '../jobs/policy.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type LogFormat = 'auto' | 'pretty' | 'json';

/** Validated configuration. Built once from the environment; never mutated. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** `undefined` → embedded SQLite file under dataDir. */
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** 32-byte master secret (base64/hex); `undefined` → a key file in dataDir. */
  secretKey: Buffer | undefined;
  masterKey: string | undefined;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  allowRegistration: boolean;
  logLevel: LogLevel;
  /** Log lines for people (pino-pretty) or JSON; auto: pretty when stdout is a terminal. */
  logFormat: LogFormat;
  corsOrigins: string[] | true | false;
  /**
   * The address people reach this hub at (links in emails, the SSO redirect URI); undefined → taken from
   * each request's Host (and X-Forwarded-* with AIHUB_TRUST_PROXY).
   */
  publicUrl: string | undefined;
  /** smtp(s)://user:pass@host:port for outgoing mail; undefined → links go to the server log and the console. */
  smtpUrl: string | undefined;
  /** The From address of outgoing mail. */
  mailFrom: string;
  bodyLimitBytes: number;
  /** Largest file of a multipart upload to /v1 (images/edits, audio transcriptions and translations). */
  uploadLimitBytes: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  trustProxy: boolean;
  shutdownTimeoutMs: number;
  /** The job queue (src/jobs/): where jobs live, whether this process runs workers, how often idle workers poll. */
  jobs: { backend: 'embedded' | 'bullmq'; workers: boolean; pollMs: number; leaseMs: number };
  /** Files and batches (OpenAI Files + Batch API): where blobs live, size limits, the pace of batch lines. */
  batch: {
    blobDir: string;
    fileMaxBytes: number;
    lineMaxBytes: number;
    requestsPerSecond: number;
    concurrency: number;
  };
  /** Scheduled backups (a job): off unless `schedule` (cron, UTC) is set; files in `dir`, the newest `keep` kept. */
  backups: { schedule: string | undefined; dir: string; keep: number };
  configFile: string | undefined;
  /** Seed the mock demo channel and models on a brand-new instance. */
  demo: boolean;
  /** Built web console to serve at `/`; undefined → dist/web of this install. */
  webDir: string | undefined;
  /** PEM certificate chain and private key files: HTTPS (and HTTP/2) on PORT when both are set. */
  tls: { certFile: string; keyFile: string } | undefined;
  /** Certificates obtained and renewed over ACME (RFC 8555) for these domains; HTTPS on PORT. */
  acme: AcmeConfig | undefined;
  /** Prometheus /metrics: off unless a token (public port) or a port of its own is set. */
  metrics: MetricsConfig;
  /** OTLP/HTTP trace export, when the standard OTEL_* variables configure an endpoint. */
  tracing: boolean;
  /** Stripe payments (STRIPE_*): these override what the console stores; apiUrl only for a local fake. */
  stripe: { secretKey: string | undefined; webhookSecret: string | undefined; apiUrl: string | undefined };
}

export interface MetricsConfig {
  /** Bearer token for GET /metrics (on the public port; on the metrics port too when set). */
  token: string | undefined;
  /** A listener of its own serving only /metrics (no token needed unless `token` is set). */
  port: number | undefined;
  host: string;
  /** Client addresses (CIDRs) allowed to GET /metrics; empty = any (then the token decides). */
  allowIps: string[];
}

export interface AcmeConfig {
  /** Names the certificate covers (the first is its common name). */
  domains: string[];
  email: string | undefined;
  directoryUrl: string;
  /** Port of the plain-HTTP listener that answers HTTP-01 challenges (and redirects everything else to HTTPS). */
  httpPort: number;
  /** PEM file of a CA to trust for the ACME server's own HTTPS (a private ACME server). */
  caFile: string | undefined;
  /** Renew this many days before the certificate expires. */
  renewDays: number;
  /** How often each instance looks at its certificate (renewal due? renewed by another instance?). */
  checkIntervalMs: number;
}

/** Well-known ACME directories by short name (AIHUB_ACME_DIRECTORY). */
export const ACME_DIRECTORIES: Record<string, string> = {
  letsencrypt: 'https://acme-v02.api.letsencrypt.org/directory',
  'letsencrypt-staging': 'https://acme-staging-v02.api.letsencrypt.org/directory',
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

interface VariableDoc {
  name: string;
  default: string;
  description: string;
}

/** Every variable AI Hub reads, for `aihub config check`, README and `.env.example`. */
export const CONFIG_VARIABLES: VariableDoc[] = [
  { name: 'PORT', default: '3000', description: 'HTTP port (1-65535)' },
  { name: 'HOST', default: '0.0.0.0', description: 'Interface to listen on' },
  {
    name: 'AIHUB_DATA_DIR',
    default: './data',
    description: 'Directory for the SQLite file and the generated secret key file',
  },
  {
    name: 'DATABASE_URL',
    default: '(empty: SQLite in AIHUB_DATA_DIR)',
    description: 'postgres://user:pass@host:5432/db for PostgreSQL, or sqlite:/path/to/file.db',
  },
  {
    name: 'REDIS_URL',
    default: '(empty: in-memory)',
    description: 'redis://host:6379 to share counters, limits and caches between instances',
  },
  {
    name: 'AIHUB_SECRET_KEY',
    default: '(empty: generated into AIHUB_DATA_DIR/secret.key)',
    description:
      '32 bytes as 64 hex chars or base64; encrypts provider keys and signs sessions. Keep it safe and stable',
  },
  {
    name: 'AIHUB_MASTER_KEY',
    default: '(empty: off)',
    description:
      'Admin credential for automation: `Authorization: Bearer <value>` on /api and /v1 (at least 16 characters)',
  },
  {
    name: 'AIHUB_ADMIN_EMAIL',
    default: '(empty)',
    description: 'With AIHUB_ADMIN_PASSWORD: the first admin, created on first start when no admin exists',
  },
  {
    name: 'AIHUB_ADMIN_PASSWORD',
    default: '(empty)',
    description: 'Password of the first admin (at least 8 characters)',
  },
  {
    name: 'AIHUB_ALLOW_REGISTRATION',
    default: 'true',
    description: 'Initial value of the "registration open" setting (admins can change it later)',
  },
  { name: 'AIHUB_LOG_LEVEL', default: 'info', description: 'fatal, error, warn, info, debug, trace or silent' },
  {
    name: 'AIHUB_LOG_FORMAT',
    default: 'auto',
    description: 'pretty (colored lines for people), json (one JSON object a line), or auto: pretty on a terminal',
  },
  {
    name: 'AIHUB_CORS_ORIGINS',
    default: '(empty: no cross-origin access)',
    description: 'Comma-separated allowed origins, or * for any',
  },
  {
    name: 'AIHUB_PUBLIC_URL',
    default: '(from each request)',
    description: 'Address people reach the hub at, e.g. https://ai.example.com (links in emails, SSO redirects)',
  },
  {
    name: 'AIHUB_SMTP_URL',
    default: '(empty: links are logged and shown to admins)',
    description: 'SMTP server for invitations, verification and password-reset mail: smtp(s)://user:pass@host:port',
  },
  { name: 'AIHUB_MAIL_FROM', default: 'AI Hub <no-reply@localhost>', description: 'From address of outgoing mail' },
  {
    name: 'AIHUB_BODY_LIMIT_MB',
    default: '20',
    description: 'Largest accepted request body in MiB (images in chat requests count)',
  },
  {
    name: 'AIHUB_UPLOAD_LIMIT_MB',
    default: '25',
    description: 'Largest file in MiB of a /v1 multipart upload (image edits, audio transcriptions/translations)',
  },
  { name: 'AIHUB_ACCESS_TOKEN_TTL', default: '900', description: 'Console access-token lifetime in seconds' },
  {
    name: 'AIHUB_REFRESH_TOKEN_TTL',
    default: '2592000',
    description: 'Console session (refresh-token) lifetime in seconds',
  },
  {
    name: 'AIHUB_TRUST_PROXY',
    default: 'false',
    description: 'true when behind a reverse proxy: client IPs are read from X-Forwarded-For',
  },
  {
    name: 'AIHUB_SHUTDOWN_TIMEOUT_MS',
    default: '30000',
    description: 'How long a shutdown waits for in-flight requests',
  },
  {
    name: 'AIHUB_JOBS',
    default: '(bullmq when REDIS_URL is set, else embedded)',
    description: 'Job queue: embedded (jobs in the database) or bullmq (BullMQ on Redis at REDIS_URL)',
  },
  {
    name: 'AIHUB_WORKERS',
    default: 'true',
    description: 'Run job workers in this server process (false: only `aihub worker` processes run jobs)',
  },
  {
    name: 'AIHUB_JOBS_POLL_MS',
    default: '1000',
    description:
      'How often an idle embedded-queue worker looks for due jobs and schedules (BullMQ: fires schedules, sees cancels from elsewhere)',
  },
  {
    name: 'AIHUB_JOBS_LEASE_MS',
    default: '30000',
    description:
      'How long a running job is held by its worker between heartbeats: after a crash (kill -9) the job runs again once this has passed',
  },
  {
    name: 'AIHUB_BLOB_DIR',
    default: '(AIHUB_DATA_DIR/blobs)',
    description: 'Directory for large payloads: uploaded batch files, batch results, exports',
  },
  { name: 'AIHUB_FILE_MAX_MB', default: '200', description: 'Largest file accepted by POST /v1/files' },
  { name: 'AIHUB_BATCH_LINE_MAX_KB', default: '1024', description: 'Largest line of a batch input file' },
  {
    name: 'AIHUB_BATCH_RPS',
    default: '20',
    description: 'Batch lines each instance sends per second at most (leaves room for interactive traffic)',
  },
  { name: 'AIHUB_BATCH_CONCURRENCY', default: '4', description: 'Batch lines in flight at once per batch' },
  {
    name: 'AIHUB_BACKUP_SCHEDULE',
    default: '(empty)',
    description: 'Cron expression (UTC) for scheduled backups, e.g. "0 3 * * *"; empty = no scheduled backups',
  },
  {
    name: 'AIHUB_BACKUP_DIR',
    default: '<data dir>/backups',
    description: 'Where scheduled backups are written (share it, or mount backup storage, when several instances run)',
  },
  {
    name: 'AIHUB_BACKUP_KEEP',
    default: '7',
    description: 'How many scheduled backups to keep (older ones are deleted after each new one)',
  },
  {
    name: 'AIHUB_CONFIG',
    default: '(empty)',
    description: 'Path of a YAML file declaring channels and models, applied at start (docs/configuration-file.md)',
  },
  {
    name: 'AIHUB_DEMO',
    default: 'true',
    description:
      'On a brand-new instance, add the built-in mock channel and demo models (mock-gpt, mock-reasoner, mock-embedding)',
  },
  {
    name: 'AIHUB_WEB_DIR',
    default: '(dist/web of this install)',
    description: 'Directory of the built web console served at /',
  },
  {
    name: 'AIHUB_TLS_CERT',
    default: '(empty: plain HTTP)',
    description:
      'PEM certificate (chain) file: with AIHUB_TLS_KEY, serve HTTPS and HTTP/2 on PORT; reloaded when the files change',
  },
  { name: 'AIHUB_TLS_KEY', default: '(empty)', description: 'PEM private key file of AIHUB_TLS_CERT' },
  {
    name: 'AIHUB_ACME_DOMAINS',
    default: '(empty: no ACME)',
    description:
      'Comma-separated domain names: obtain and renew their certificate over ACME (HTTP-01) and serve HTTPS and HTTP/2 on PORT',
  },
  {
    name: 'AIHUB_ACME_EMAIL',
    default: '(empty)',
    description: 'Contact address for the ACME account (expiry notices)',
  },
  {
    name: 'AIHUB_ACME_DIRECTORY',
    default: 'letsencrypt',
    description: 'ACME directory: letsencrypt, letsencrypt-staging, or the https:// URL of any RFC 8555 server',
  },
  {
    name: 'AIHUB_ACME_HTTP_PORT',
    default: '80',
    description:
      'Plain-HTTP port answering HTTP-01 challenges (the CA connects to port 80); other requests redirect to HTTPS',
  },
  {
    name: 'AIHUB_ACME_CA_FILE',
    default: '(empty)',
    description: "PEM of a CA to trust for the ACME server's own HTTPS (private ACME servers such as step-ca)",
  },
  {
    name: 'AIHUB_ACME_RENEW_DAYS',
    default: '30',
    description: 'Renew the certificate this many days before it expires',
  },
  {
    name: 'AIHUB_ACME_CHECK_INTERVAL_MS',
    default: '3600000',
    description: 'How often each instance checks whether its certificate is due for renewal or was renewed by another',
  },
  {
    name: 'AIHUB_METRICS_TOKEN',
    default: '(empty: no /metrics on PORT)',
    description:
      'Serve Prometheus metrics at GET /metrics on PORT to `Authorization: Bearer <value>` (at least 16 characters)',
  },
  {
    name: 'AIHUB_METRICS_PORT',
    default: '(empty: none)',
    description:
      'Serve GET /metrics on this port of its own (keep it off the public network; the token applies if set)',
  },
  {
    name: 'AIHUB_METRICS_ALLOW_IPS',
    default: '(empty: any address)',
    description:
      'Comma-separated IPs or CIDR ranges allowed to GET /metrics (on PORT and AIHUB_METRICS_PORT); on PORT it serves /metrics without a token too. With a token both apply',
  },
  {
    name: 'AIHUB_METRICS_HOST',
    default: '(HOST)',
    description: 'Interface the AIHUB_METRICS_PORT listener binds to, e.g. 127.0.0.1',
  },
  {
    name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    default: '(empty: no tracing)',
    description:
      'Export OpenTelemetry traces over OTLP/HTTP to this collector (http://collector:4318); the other standard OTEL_* variables apply',
  },
  {
    name: 'OTEL_SERVICE_NAME',
    default: 'aihub',
    description: 'service.name of the exported traces',
  },
];

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LOG_FORMATS: LogFormat[] = ['auto', 'pretty', 'json'];

function blank(value: string | undefined): value is undefined {
  return value === undefined || value.trim() === '';
}

/**
 * Build the configuration from `env` (normally process.env merged with `.env`).
 * Throws ConfigError naming every bad variable and what it allows.
 */
export function loadConfig(env: Env): Config {
  const problems: string[] = [];

  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (blank(raw)) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}="${raw}" must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = env[name];
    if (blank(raw)) return fallback;
    const v = raw.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
    problems.push(`${name}="${raw}" must be true or false`);
    return fallback;
  };
  const str = (name: string): string | undefined => (blank(env[name]) ? undefined : env[name]?.trim());

  const databaseUrl = str('DATABASE_URL');
  if (databaseUrl && !/^(postgres(ql)?:\/\/|sqlite:)/.test(databaseUrl)) {
    problems.push(
      `DATABASE_URL must start with postgres://, postgresql:// or sqlite: (got "${databaseUrl.split(':')[0]}:…")`,
    );
  }
  const redisUrl = str('REDIS_URL');
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) {
    problems.push('REDIS_URL must start with redis:// or rediss://');
  }

  let secretKey: Buffer | undefined;
  const rawSecret = str('AIHUB_SECRET_KEY');
  if (rawSecret) {
    secretKey = parseSecretKey(rawSecret);
    if (!secretKey)
      problems.push(
        'AIHUB_SECRET_KEY must be 32 bytes written as 64 hex characters or base64 (try: openssl rand -hex 32)',
      );
  }

  const masterKey = str('AIHUB_MASTER_KEY');
  if (masterKey && masterKey.length < 16) problems.push('AIHUB_MASTER_KEY must be at least 16 characters');

  const adminEmail = str('AIHUB_ADMIN_EMAIL');
  const adminPassword =
    env.AIHUB_ADMIN_PASSWORD && env.AIHUB_ADMIN_PASSWORD !== '' ? env.AIHUB_ADMIN_PASSWORD : undefined;
  if (adminEmail && !isEmail(adminEmail)) problems.push(`AIHUB_ADMIN_EMAIL="${adminEmail}" is not an email address`);
  if (Boolean(adminEmail) !== Boolean(adminPassword))
    problems.push('AIHUB_ADMIN_EMAIL and AIHUB_ADMIN_PASSWORD must be set together');
  if (adminPassword && adminPassword.length < 8) problems.push('AIHUB_ADMIN_PASSWORD must be at least 8 characters');

  const rawLevel = str('AIHUB_LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(rawLevel as LogLevel))
    problems.push(`AIHUB_LOG_LEVEL="${rawLevel}" must be one of ${LOG_LEVELS.join(', ')}`);

  const logFormat = str('AIHUB_LOG_FORMAT') ?? 'auto';
  if (!LOG_FORMATS.includes(logFormat as LogFormat))
    problems.push(`AIHUB_LOG_FORMAT="${logFormat}" must be one of ${LOG_FORMATS.join(', ')}`);

  const rawCors = str('AIHUB_CORS_ORIGINS');
  let corsOrigins: Config['corsOrigins'] = false;
  if (rawCors === '*') corsOrigins = true;
  else if (rawCors) {
    corsOrigins = rawCors
      .split(',')
      .map((o) => o.trim())
      .filter(Boolean);
    for (const origin of corsOrigins) {
      if (!/^https?:\/\/[^/]+$/.test(origin))
        problems.push(`AIHUB_CORS_ORIGINS entry "${origin}" must look like https://host[:port]`);
    }
  }

  const publicUrl = str('AIHUB_PUBLIC_URL')?.replace(/\/+$/, '');
  if (publicUrl !== undefined && !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(publicUrl))
    problems.push(`AIHUB_PUBLIC_URL "${publicUrl}" must look like https://host[:port][/path]`);
  const smtpUrl = str('AIHUB_SMTP_URL');
  if (smtpUrl !== undefined && !/^smtps?:\/\/.+/.test(smtpUrl))
    problems.push('AIHUB_SMTP_URL must look like smtp://user:pass@host:port or smtps://…');
  const dataDir = resolve(str('AIHUB_DATA_DIR') ?? './data');

  const config: Config = {
    port: int('PORT', 3000, 0, 65535),
    host: str('HOST') ?? '0.0.0.0',
    dataDir,
    databaseUrl,
    redisUrl,
    secretKey,
    masterKey,
    adminEmail: adminEmail?.toLowerCase(),
    adminPassword,
    allowRegistration: bool('AIHUB_ALLOW_REGISTRATION', true),
    logLevel: rawLevel as LogLevel,
    logFormat: logFormat as LogFormat,
    corsOrigins,
    publicUrl,
    smtpUrl,
    mailFrom: str('AIHUB_MAIL_FROM') ?? 'AI Hub <no-reply@localhost>',
    bodyLimitBytes: int('AIHUB_BODY_LIMIT_MB', 20, 1, 1024) * 1024 * 1024,
    uploadLimitBytes: int('AIHUB_UPLOAD_LIMIT_MB', 25, 1, 1024) * 1024 * 1024,
    accessTokenTtlSeconds: int('AIHUB_ACCESS_TOKEN_TTL', 900, 30, 86_400),
    refreshTokenTtlSeconds: int('AIHUB_REFRESH_TOKEN_TTL', 2_592_000, 300, 31_536_000),
    trustProxy: bool('AIHUB_TRUST_PROXY', false),
    shutdownTimeoutMs: int('AIHUB_SHUTDOWN_TIMEOUT_MS', 30_000, 0, 600_000),
    jobs: {
      backend: jobsBackend(str('AIHUB_JOBS'), redisUrl, problems),
      workers: bool('AIHUB_WORKERS', true),
      pollMs: int('AIHUB_JOBS_POLL_MS', 1_000, 10, 60_000),
      leaseMs: int('AIHUB_JOBS_LEASE_MS', 30_000, 1_000, 600_000),
    },
    batch: {
      blobDir: resolve(str('AIHUB_BLOB_DIR') ?? join(dataDir, 'blobs')),
      fileMaxBytes: int('AIHUB_FILE_MAX_MB', 200, 1, 100_000) * 1024 * 1024,
      lineMaxBytes: int('AIHUB_BATCH_LINE_MAX_KB', 1024, 1, 1_048_576) * 1024,
      requestsPerSecond: int('AIHUB_BATCH_RPS', 20, 1, 100_000),
      concurrency: int('AIHUB_BATCH_CONCURRENCY', 4, 1, 256),
    },
    backups: {
      schedule: cronSetting('AIHUB_BACKUP_SCHEDULE', str('AIHUB_BACKUP_SCHEDULE'), problems),
      dir: resolve(str('AIHUB_BACKUP_DIR') ?? join(dataDir, 'backups')),
      keep: int('AIHUB_BACKUP_KEEP', 7, 1, 1000),
    },
    configFile: str('AIHUB_CONFIG'),
    demo: bool('AIHUB_DEMO', true),
    webDir: str('AIHUB_WEB_DIR') ? resolve(str('AIHUB_WEB_DIR') as string) : undefined,
    tls: undefined,
    acme: undefined,
    metrics: metricsConfig(env, problems, int),
    tracing: tracingConfigured(env),
    stripe: {
      secretKey: str('STRIPE_SECRET_KEY'),
      webhookSecret: str('STRIPE_WEBHOOK_SECRET'),
      apiUrl: str('STRIPE_API_URL'),
    },
  };
  if (config.stripe.apiUrl !== undefined && !/^https?:\/\/[^/?#]+\/?$/.test(config.stripe.apiUrl))
    problems.push(`STRIPE_API_URL "${config.stripe.apiUrl}" must look like http://host:port`);
  if (config.configFile && !existsSync(config.configFile))
    problems.push(`AIHUB_CONFIG="${config.configFile}": no such file`);
  const certFile = str('AIHUB_TLS_CERT');
  const keyFile = str('AIHUB_TLS_KEY');
  if (Boolean(certFile) !== Boolean(keyFile))
    problems.push('AIHUB_TLS_CERT and AIHUB_TLS_KEY: set both (HTTPS) or neither (plain HTTP)');
  for (const [name, file] of [
    ['AIHUB_TLS_CERT', certFile],
    ['AIHUB_TLS_KEY', keyFile],
  ] as const)
    if (file && !existsSync(file)) problems.push(`${name}="${file}": no such file`);
  if (certFile && keyFile) config.tls = { certFile: resolve(certFile), keyFile: resolve(keyFile) };
  config.acme = acmeConfig(env, problems, int);
  if (config.acme && config.tls)
    problems.push('AIHUB_ACME_DOMAINS and AIHUB_TLS_CERT: choose one source of certificates');
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function metricsConfig(
  env: Env,
  problems: string[],
  int: (name: string, fallback: number, min: number, max: number) => number,
): MetricsConfig {
  const token = blank(env.AIHUB_METRICS_TOKEN) ? undefined : env.AIHUB_METRICS_TOKEN?.trim();
  if (token !== undefined && token.length < 16) problems.push('AIHUB_METRICS_TOKEN must be at least 16 characters');
  const port = blank(env.AIHUB_METRICS_PORT) ? undefined : int('AIHUB_METRICS_PORT', 0, 0, 65535);
  const host = (blank(env.AIHUB_METRICS_HOST) ? env.HOST?.trim() : env.AIHUB_METRICS_HOST?.trim()) || '0.0.0.0';
  const allowIps: string[] = [];
  for (const entry of (env.AIHUB_METRICS_ALLOW_IPS ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    try {
      allowIps.push(formatCidr(parseCidr(entry)));
    } catch (error) {
      problems.push(`AIHUB_METRICS_ALLOW_IPS: ${(error as Error).message}`);
    }
  }
  return { token, port, host, allowIps };
}

/** Whether the OTel variables ask for trace export (an OTLP endpoint, not disabled). */
function tracingConfigured(env: Env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter && exporter !== 'otlp') return false;
  return !blank(env.OTEL_EXPORTER_OTLP_ENDPOINT) || !blank(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/** The ACME settings, or undefined when AIHUB_ACME_DOMAINS is not set. */
function acmeConfig(
  env: Env,
  problems: string[],
  int: (name: string, fallback: number, min: number, max: number) => number,
): AcmeConfig | undefined {
  const str = (name: string) => (blank(env[name]) ? undefined : (env[name] as string).trim());
  const rawDomains = str('AIHUB_ACME_DOMAINS');
  if (!rawDomains) return undefined;
  const domains = [
    ...new Set(
      rawDomains
        .split(',')
        .map((d) => d.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  for (const domain of domains)
    if (!/^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/.test(domain) || domain.startsWith('*.'))
      problems.push(
        `AIHUB_ACME_DOMAINS entry "${domain}" must be a DNS name such as api.example.com (HTTP-01 cannot issue wildcards)`,
      );
  const email = str('AIHUB_ACME_EMAIL');
  if (email && !isEmail(email)) problems.push(`AIHUB_ACME_EMAIL="${email}" is not an email address`);
  const rawDirectory = str('AIHUB_ACME_DIRECTORY') ?? 'letsencrypt';
  const directoryUrl = ACME_DIRECTORIES[rawDirectory] ?? rawDirectory;
  if (!/^https:\/\/\S+$/.test(directoryUrl))
    problems.push(
      `AIHUB_ACME_DIRECTORY="${rawDirectory}" must be ${Object.keys(ACME_DIRECTORIES).join(', ')} or an https:// URL`,
    );
  const caFile = str('AIHUB_ACME_CA_FILE');
  if (caFile && !existsSync(caFile)) problems.push(`AIHUB_ACME_CA_FILE="${caFile}": no such file`);
  return {
    domains,
    email,
    directoryUrl,
    httpPort: int('AIHUB_ACME_HTTP_PORT', 80, 0, 65535),
    caFile: caFile ? resolve(caFile) : undefined,
    renewDays: int('AIHUB_ACME_RENEW_DAYS', 30, 1, 365),
    checkIntervalMs: int('AIHUB_ACME_CHECK_INTERVAL_MS', 3_600_000, 100, 86_400_000),
  };
}

export function parseSecretKey(raw: string): Buffer | undefined {
  if (/^[0-9a-fA-F]{64}$/.test(raw)) return Buffer.from(raw, 'hex');
  const b64 = Buffer.from(raw, 'base64');
  return b64.length === 32 ? b64 : undefined;
}

export function isEmail(value: string): boolean {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) && value.length <= 254;
}

/** process.env over the values of `.env` in the working directory (real environment wins). */
export function readEnvironment(cwd = process.cwd(), env: Env = process.env): Env {
  const file = resolve(cwd, '.env');
  const fromFile = existsSync(file) ? parseDotenv(readFileSync(file)) : {};
  return { ...fromFile, ...env };
}

/**
 * AIHUB_JOBS: the job queue. BullMQ on Redis when REDIS_URL is set (the instances share Redis already),
 * else the embedded queue in the database; `bullmq` without REDIS_URL is refused at start.
 */
function jobsBackend(raw: string | undefined, redisUrl: string | undefined, problems: string[]): 'embedded' | 'bullmq' {
  const value = raw?.toLowerCase();
  if (value === undefined) return redisUrl ? 'bullmq' : 'embedded';
  if (value === 'embedded') return 'embedded';
  if (value === 'bullmq') {
    if (!redisUrl) problems.push('AIHUB_JOBS=bullmq needs REDIS_URL: BullMQ keeps its jobs in Redis');
    return 'bullmq';
  }
  problems.push(`AIHUB_JOBS="${raw}" must be embedded or bullmq`);
  return 'embedded';
}

/** A cron expression from the environment: one that is not one, or never fires, is refused at start. */
function cronSetting(name: string, value: string | undefined, problems: string[]): string | undefined {
  const problem = value === undefined ? undefined : cronProblem(value, Date.now());
  if (problem) problems.push(`${name}: ${problem}`);
  return value;
}
