import Stripe from 'stripe';
import type { Clock } from '../../core/clock.js';
import { ApiError } from '../../core/errors.js';
import type { SecretBox } from '../../core/secrets.js';
import type { PaymentsRepository } from './repository.js';

/** What the environment sets (STRIPE_*): it wins over the console's values. */
export interface StripeEnv {
  secretKey: string | undefined;
  webhookSecret: string | undefined;
  /** A local Stripe fake (tests, stripe-mock): http://host:port. */
  apiUrl: string | undefined;
}

/** The console's part of the configuration, as stored (secrets sealed with the instance key). */
interface StoredConfig {
  secretKeySealed?: string | null;
  webhookSecretSealed?: string | null;
  topUpMinMicros?: number;
  topUpMaxMicros?: number;
  graceDays?: number;
}

/** The configuration in force. */
export interface PaymentsConfig {
  secretKey: string | undefined;
  webhookSecret: string | undefined;
  topUpMinMicros: number;
  topUpMaxMicros: number;
  graceDays: number;
}

/** What admins see: never a secret, only whether one is set and where it comes from. */
export interface PaymentsConfigView {
  configured: boolean;
  secretKeySet: boolean;
  webhookSecretSet: boolean;
  /** `env` when STRIPE_SECRET_KEY / STRIPE_WEBHOOK_SECRET set them (the console cannot change them then). */
  secretKeySource: 'env' | 'console' | null;
  webhookSecretSource: 'env' | 'console' | null;
  topUpMinMicros: number;
  topUpMaxMicros: number;
  graceDays: number;
}

export interface PaymentsConfigPatch {
  secretKey?: string | null | undefined;
  webhookSecret?: string | null | undefined;
  topUpMinMicros?: number | undefined;
  topUpMaxMicros?: number | undefined;
  graceDays?: number | undefined;
}

export const DEFAULTS = { topUpMinMicros: 1_000_000, topUpMaxMicros: 1_000_000_000, graceDays: 3 } as const;

/**
 * Stripe's configuration: keys from the environment or stored (encrypted) from the console, top-up bounds and
 * the grace period after a failed renewal. Read from the database when used (payments are not the hot path),
 * so every instance sees a change at once.
 */
export class PaymentsConfigStore {
  readonly #clients = new Map<string, Stripe>();

  constructor(
    private readonly deps: { repo: PaymentsRepository; secretBox: SecretBox; env: StripeEnv; clock: Clock },
  ) {}

  private async stored(): Promise<StoredConfig> {
    const raw = await this.deps.repo.readConfig();
    return raw ? (JSON.parse(raw) as StoredConfig) : {};
  }

  private open(sealed: string | null | undefined): string | undefined {
    return sealed ? this.deps.secretBox.decrypt(sealed) : undefined;
  }

  async current(): Promise<PaymentsConfig> {
    const s = await this.stored();
    return {
      secretKey: this.deps.env.secretKey ?? this.open(s.secretKeySealed),
      webhookSecret: this.deps.env.webhookSecret ?? this.open(s.webhookSecretSealed),
      topUpMinMicros: s.topUpMinMicros ?? DEFAULTS.topUpMinMicros,
      topUpMaxMicros: s.topUpMaxMicros ?? DEFAULTS.topUpMaxMicros,
      graceDays: s.graceDays ?? DEFAULTS.graceDays,
    };
  }

  async view(): Promise<PaymentsConfigView> {
    const s = await this.stored();
    const source = (env: string | undefined, sealed: string | null | undefined) =>
      env !== undefined ? 'env' : sealed ? 'console' : null;
    const secretKeySource = source(this.deps.env.secretKey, s.secretKeySealed);
    const webhookSecretSource = source(this.deps.env.webhookSecret, s.webhookSecretSealed);
    return {
      configured: secretKeySource !== null && webhookSecretSource !== null,
      secretKeySet: secretKeySource !== null,
      webhookSecretSet: webhookSecretSource !== null,
      secretKeySource,
      webhookSecretSource,
      topUpMinMicros: s.topUpMinMicros ?? DEFAULTS.topUpMinMicros,
      topUpMaxMicros: s.topUpMaxMicros ?? DEFAULTS.topUpMaxMicros,
      graceDays: s.graceDays ?? DEFAULTS.graceDays,
    };
  }

  /** Change the stored configuration (null clears a secret; a secret set by the environment cannot change). */
  async update(patch: PaymentsConfigPatch): Promise<PaymentsConfigView> {
    const s = await this.stored();
    for (const [field, envValue] of [
      ['secretKey', this.deps.env.secretKey],
      ['webhookSecret', this.deps.env.webhookSecret],
    ] as const)
      if (patch[field] !== undefined && envValue !== undefined)
        throw new ApiError('conflict', `${field} is set by the environment (STRIPE_*); change it there`, {
          param: field,
        });
    if (patch.secretKey && !/^(sk|rk)_(test|live)_[A-Za-z0-9]+$/.test(patch.secretKey))
      throw new ApiError('validation_failed', 'body.secretKey must be a Stripe secret key (sk_test_… or sk_live_…)', {
        param: 'secretKey',
      });
    if (patch.webhookSecret && !/^whsec_[A-Za-z0-9]+$/.test(patch.webhookSecret))
      throw new ApiError('validation_failed', 'body.webhookSecret must be a webhook signing secret (whsec_…)', {
        param: 'webhookSecret',
      });
    const min = patch.topUpMinMicros ?? s.topUpMinMicros ?? DEFAULTS.topUpMinMicros;
    const max = patch.topUpMaxMicros ?? s.topUpMaxMicros ?? DEFAULTS.topUpMaxMicros;
    if (min > max)
      throw new ApiError('validation_failed', 'body.topUpMinMicros must not be above topUpMaxMicros', {
        param: 'topUpMinMicros',
      });
    const next: StoredConfig = { ...s, topUpMinMicros: min, topUpMaxMicros: max };
    if (patch.graceDays !== undefined) next.graceDays = patch.graceDays;
    if (patch.secretKey !== undefined)
      next.secretKeySealed = patch.secretKey === null ? null : this.deps.secretBox.encrypt(patch.secretKey);
    if (patch.webhookSecret !== undefined)
      next.webhookSecretSealed = patch.webhookSecret === null ? null : this.deps.secretBox.encrypt(patch.webhookSecret);
    await this.deps.repo.writeConfig(JSON.stringify(next), this.deps.clock.now());
    return this.view();
  }

  /** The Stripe client, or 503 payments_not_configured. */
  async client(): Promise<{ stripe: Stripe; config: PaymentsConfig }> {
    const config = await this.current();
    if (!config.secretKey || !config.webhookSecret)
      throw new ApiError(
        'payments_not_configured',
        'Payments are not configured on this hub (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET, or Admin → Billing → Stripe); redemption codes and manual top-ups still work',
      );
    let stripe = this.#clients.get(config.secretKey);
    if (!stripe) {
      stripe = new Stripe(config.secretKey, {
        ...apiAddress(this.deps.env.apiUrl),
        maxNetworkRetries: 2,
        telemetry: false,
      });
      this.#clients.clear();
      this.#clients.set(config.secretKey, stripe);
    }
    return { stripe, config };
  }
}

/** The SDK's own host/port/protocol options for a local fake (none: api.stripe.com). */
function apiAddress(apiUrl: string | undefined): { host?: string; port?: number; protocol?: 'http' | 'https' } {
  if (!apiUrl) return {};
  const url = new URL(apiUrl);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return { host: url.hostname, port: Number(url.port || (protocol === 'http' ? 80 : 443)), protocol };
}
