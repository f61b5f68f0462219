import type { MailMessage } from '../mail/mailer.js';
import { lowBalanceMessage } from '../mail/templates.js';
import type { BillingRepository } from './repository.js';

export interface LowBalanceNotice {
  orgId: string;
  balanceMicros: number;
  thresholdMicros: number;
}

export interface LowBalanceNotifierDeps {
  repo: BillingRepository;
  mail: (message: MailMessage) => void;
  currency: () => string;
  /** AIHUB_PUBLIC_URL: the message links to its Billing page. */
  publicUrl: string | undefined;
  /** POST a JSON body (the webhook); tests and the default use fetch with a timeout. */
  post?: (url: string, body: unknown) => Promise<void>;
  onError?: (error: unknown) => void;
}

const WEBHOOK_TIMEOUT_MS = 10_000;

/** Tells an organization its balance fell below a threshold: mail to its owners and billing managers, and its webhook. */
export class LowBalanceNotifier {
  #onError: (error: unknown) => void;

  constructor(private readonly deps: LowBalanceNotifierDeps) {
    this.#onError = deps.onError ?? (() => undefined);
  }

  reportErrorsTo(handler: (error: unknown) => void): void {
    this.#onError = handler;
  }

  /** Fire and forget: a failing mail server or webhook never fails the posting that crossed the threshold. */
  notify(notice: LowBalanceNotice): Promise<void> {
    return this.deliver(notice).catch((error: unknown) => this.#onError(error));
  }

  private async deliver(notice: LowBalanceNotice): Promise<void> {
    const wallet = await this.deps.repo.wallet(notice.orgId);
    const org = await this.deps.repo.db
      .selectFrom('organizations')
      .select(['name'])
      .where('id', '=', notice.orgId)
      .executeTakeFirst();
    const currency = this.deps.currency();
    const amount = (micros: number) => `${(micros / 1_000_000).toFixed(2)} ${currency}`;
    const link = this.deps.publicUrl ? `${this.deps.publicUrl}/billing` : '/billing';
    for (const to of await this.deps.repo.billingContacts(notice.orgId))
      this.deps.mail(
        lowBalanceMessage(to, link, {
          organization: org?.name ?? notice.orgId,
          balance: amount(notice.balanceMicros),
          threshold: amount(notice.thresholdMicros),
        }),
      );
    const url = wallet?.low_balance_webhook_url;
    if (url) {
      const post = this.deps.post ?? postJson;
      await post(url, {
        event: 'balance.low',
        organizationId: notice.orgId,
        balanceMicros: notice.balanceMicros,
        thresholdMicros: notice.thresholdMicros,
        currency,
      });
    }
  }
}

async function postJson(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'AI Hub' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
  });
  await res.body?.cancel();
  if (!res.ok) throw new Error(`low-balance webhook ${new URL(url).host} answered ${res.status}`);
}
