import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { AcmeConfig } from '../../config/index.js';
import type { Clock } from '../../core/clock.js';
import type { SecretBox } from '../../core/secrets.js';
import type { TlsMaterial } from '../../http/tls.js';
import type { AcmeCertificatesTable } from '../../infra/db/schema.js';
import type { AcmeRepository } from './repository.js';
import type { CertificateStatus } from './schema.js';

const DAY_MS = 86_400_000;
/** How long one instance may hold the renewal lease (an order with a slow CA takes a minute or two). */
const LEASE_MS = 10 * 60_000;
/** How long a challenge answer stays available to the CA. */
const CHALLENGE_TTL_MS = 60 * 60_000;
/** First retry after a failed renewal; doubles per failure, up to the check interval. */
const FIRST_RETRY_MS = 60_000;

export interface AcmeLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface AcmeDeps {
  config: AcmeConfig;
  repo: AcmeRepository;
  secretBox: SecretBox;
  clock: Clock;
  log: AcmeLog;
  /** Names this instance in the renewal lease. */
  instanceId: string;
  /** First retry delay after a failure (tests shorten it). */
  firstRetryMs?: number;
}

/**
 * Certificates over ACME (RFC 8555, HTTP-01): obtains the hub's certificate, renews it `renewDays` before it
 * expires, and hands every new one to the server (new connections get it at once). Several instances share one
 * row in the database: the one that takes the lease orders, the others load what it stored on their next check;
 * challenge answers are in the database too, since the CA's request may reach any instance.
 */
export class AcmeManager {
  #material: TlsMaterial | undefined;
  #certPem: string | null = null;
  #row: AcmeCertificatesTable | undefined;
  #renewing = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #listeners: Array<(material: TlsMaterial) => void> = [];
  readonly #challenges = new Map<string, string>();

  constructor(private readonly deps: AcmeDeps) {}

  /** The certificate being served, if one has been obtained. */
  get material(): TlsMaterial | undefined {
    return this.#material;
  }

  /** Call `listener` with every certificate loaded from now on. */
  onCertificate(listener: (material: TlsMaterial) => void): void {
    this.#listeners.push(listener);
  }

  /** Load the stored certificate (if any), so the server starts with it. */
  async load(): Promise<void> {
    const { config, repo, clock } = this.deps;
    await repo.ensure(config.domains, config.directoryUrl, clock.now());
    await this.#refresh();
  }

  /** Check now, then every `checkIntervalMs` (and sooner after a failure). */
  start(): void {
    const tick = () => {
      this.#running = this.check()
        .catch((error) => this.deps.log.error({ err: error }, 'ACME: certificate check failed'))
        .finally(() => {
          this.#running = undefined;
          if (this.#timer !== undefined) this.#schedule(tick);
        });
    };
    this.#timer = setTimeout(tick, 0);
    this.#timer.unref();
  }

  #schedule(tick: () => void): void {
    const failures = this.#row?.failures ?? 0;
    const { checkIntervalMs } = this.deps.config;
    const delay =
      failures > 0
        ? Math.min(checkIntervalMs, (this.deps.firstRetryMs ?? FIRST_RETRY_MS) * 2 ** (failures - 1))
        : checkIntervalMs;
    this.#timer = setTimeout(tick, delay);
    this.#timer.unref();
  }

  /** Stop checking; waits for a renewal in progress (it holds the lease). */
  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /**
   * Load what another instance stored, then renew if the certificate is missing, does not cover the configured
   * names, or expires within `renewDays` — unless a recent failure says to wait, or another instance holds the
   * lease.
   */
  async check(): Promise<void> {
    await this.#refresh();
    const row = this.#row;
    if (!row || !this.#due(row)) return;
    const { repo, clock, instanceId } = this.deps;
    if (!(await repo.tryLease(instanceId, clock.now(), LEASE_MS))) return;
    this.#renewing = true;
    try {
      await this.#renew(row);
    } finally {
      this.#renewing = false;
      await repo.releaseLease(instanceId);
      await this.#refresh();
    }
  }

  #due(row: AcmeCertificatesTable): boolean {
    const now = this.deps.clock.now();
    if (row.failures > 0 && row.last_attempt_at !== null) {
      const wait = Math.min(
        this.deps.config.checkIntervalMs,
        (this.deps.firstRetryMs ?? FIRST_RETRY_MS) * 2 ** (row.failures - 1),
      );
      if (now < row.last_attempt_at + wait) return false;
    }
    if (!row.cert_pem || row.not_after === null) return true;
    if (!sameNames(JSON.parse(row.domains) as string[], this.deps.config.domains)) return true;
    return row.not_after - this.deps.config.renewDays * DAY_MS <= now;
  }

  async #renew(row: AcmeCertificatesTable): Promise<void> {
    const { config, repo, secretBox, clock, log } = this.deps;
    const startedAt = clock.now();
    await repo.update({ last_attempt_at: startedAt });
    log.info({ domains: config.domains, directory: config.directoryUrl }, 'ACME: ordering a certificate');
    try {
      const acme = await loadAcmeClient(config.caFile);
      let accountKey = row.account_key ? decryptOrUndefined(secretBox, row.account_key) : undefined;
      if (!accountKey || row.directory_url !== config.directoryUrl) {
        accountKey = (await acme.crypto.createPrivateKey()).toString();
        await repo.update({ account_key: secretBox.encrypt(accountKey), directory_url: config.directoryUrl });
      }
      const client = new acme.Client({ directoryUrl: config.directoryUrl, accountKey });
      const [key, csr] = await acme.crypto.createCsr({ commonName: config.domains[0], altNames: config.domains });
      const certPem = await client.auto({
        csr,
        ...(config.email ? { email: config.email } : {}),
        termsOfServiceAgreed: true,
        challengePriority: ['http-01'],
        // The CA checks from outside; a check from inside would fail behind NAT or split DNS.
        skipChallengeVerification: true,
        challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
          if (challenge.type !== 'http-01') throw new Error(`unsupported challenge ${challenge.type}`);
          this.#challenges.set(challenge.token, keyAuthorization);
          await repo.putChallenge(challenge.token, keyAuthorization, clock.now() + CHALLENGE_TTL_MS);
        },
        challengeRemoveFn: async (_authz, challenge) => {
          this.#challenges.delete(challenge.token);
          await repo.removeChallenge(challenge.token, clock.now());
        },
      });
      const cert = new X509Certificate(certPem);
      await repo.update({
        domains: JSON.stringify(config.domains),
        cert_pem: certPem,
        key_pem: secretBox.encrypt(key.toString()),
        issuer: issuerName(cert),
        not_before: Date.parse(cert.validFrom),
        not_after: Date.parse(cert.validTo),
        renewed_at: clock.now(),
        last_error: null,
        failures: 0,
        updated_at: clock.now(),
      });
      log.info(
        { domains: config.domains, issuer: issuerName(cert), expires: cert.validTo },
        'ACME: certificate obtained',
      );
    } catch (error) {
      const message = acmeErrorText(error);
      await repo.update({ last_error: message, failures: row.failures + 1, updated_at: clock.now() });
      log.error({ domains: config.domains, error: message }, 'ACME: could not obtain the certificate');
    }
  }

  /** Re-read the row; when it holds a certificate this instance is not serving yet, serve it. */
  async #refresh(): Promise<void> {
    const row = await this.deps.repo.get();
    this.#row = row;
    if (!row?.cert_pem || !row.key_pem || row.cert_pem === this.#certPem) return;
    let key: string;
    try {
      key = this.deps.secretBox.decrypt(row.key_pem);
    } catch {
      // Stored under another master key (a restore with a different AIHUB_SECRET_KEY): order a new one.
      this.deps.log.error({}, 'ACME: the stored certificate key cannot be decrypted with this secret key');
      this.#row = { ...row, cert_pem: null, account_key: null };
      return;
    }
    const material = { cert: Buffer.from(row.cert_pem), key: Buffer.from(key) };
    this.#certPem = row.cert_pem;
    this.#material = material;
    for (const listener of this.#listeners) {
      try {
        listener(material);
      } catch (error) {
        this.deps.log.error({ err: error }, 'ACME: the new certificate could not be loaded');
      }
    }
  }

  /** The key authorization for an HTTP-01 token (this instance's order first, then any instance's). */
  async challenge(token: string): Promise<string | undefined> {
    return this.#challenges.get(token) ?? this.deps.repo.challenge(token, this.deps.clock.now());
  }

  status(): CertificateStatus {
    const row = this.#row;
    const { config } = this.deps;
    const notAfter = row?.cert_pem ? row.not_after : null;
    return {
      source: 'acme',
      domains: config.domains,
      directoryUrl: config.directoryUrl,
      issuer: row?.cert_pem ? row.issuer : null,
      notBefore: row?.cert_pem ? row.not_before : null,
      notAfter,
      renewedAt: row?.renewed_at ?? null,
      renewAfter: notAfter === null ? null : notAfter - config.renewDays * DAY_MS,
      lastAttemptAt: row?.last_attempt_at ?? null,
      lastError: row?.last_error ?? null,
      failures: row?.failures ?? 0,
      renewing: this.#renewing || (row?.lease_until ?? 0) > this.deps.clock.now(),
    };
  }
}

/** The status of a certificate read from files (AIHUB_TLS_CERT), or of no TLS at all. */
export function fileCertificateStatus(material: TlsMaterial | undefined): CertificateStatus {
  const cert = material ? new X509Certificate(material.cert) : undefined;
  return {
    source: cert ? 'files' : 'none',
    domains: cert ? certificateNames(cert) : [],
    directoryUrl: null,
    issuer: cert ? issuerName(cert) : null,
    notBefore: cert ? Date.parse(cert.validFrom) : null,
    notAfter: cert ? Date.parse(cert.validTo) : null,
    renewedAt: null,
    renewAfter: null,
    lastAttemptAt: null,
    lastError: null,
    failures: 0,
    renewing: false,
  };
}

function decryptOrUndefined(box: SecretBox, sealed: string): string | undefined {
  try {
    return box.decrypt(sealed);
  } catch {
    return undefined;
  }
}

function issuerName(cert: X509Certificate): string {
  return /(?:^|\n)CN=([^\n]+)/.exec(cert.issuer)?.[1] ?? cert.issuer.replace(/\n/g, ', ');
}

function certificateNames(cert: X509Certificate): string[] {
  const names = (cert.subjectAltName ?? '')
    .split(', ')
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4));
  return names.length > 0 ? names : [/(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1] ?? cert.subject];
}

function sameNames(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');
}

/** The CA's problem document when there is one (RFC 8555 §6.7), else the error's message. */
function acmeErrorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 1000 ? `${message.slice(0, 1000)}…` : message;
}

/** acme-client, loaded on first use (a hub without ACME never loads it), trusting `caFile` if given. */
async function loadAcmeClient(caFile: string | undefined): Promise<typeof import('acme-client')> {
  const acme = await import('acme-client');
  if (caFile) acme.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, readFileSync(caFile, 'utf8')] });
  return acme;
}
