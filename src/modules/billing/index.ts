/**
 * The money layer, wired: wallets and their ledger, redemption codes, list prices on request rows, batched
 * usage charges and prepaid admission. `createBilling` builds it from the services it needs; services.ts
 * hands the data plane `admission` and `usage` in place of the limits enforcer and the log writer.
 */
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.js';
import type { IdGenerator } from '../../core/ids.js';
import type { Admission, UsageSink } from '../../gateway/ports.js';
import type { Database } from '../../infra/db/schema.js';
import type { CounterStore } from '../../infra/state/counters.js';
import type { AuditService } from '../audit/service.js';
import { LoginThrottle } from '../auth/throttle.js';
import type { MailMessage } from '../mail/mailer.js';
import { BilledUsageSink, UsageCharger } from './charges.js';
import { PricingGroupService } from './groups.js';
import { PricingGroupRepository } from './groups-repository.js';
import { LowBalanceNotifier } from './low-balance.js';
import { PrepaidAdmission, WalletCounters } from './prepaid.js';
import { BillingDirectory, type MemberWalletMode } from './pricing.js';
import { RedemptionService } from './redemption.js';
import { BillingRepository } from './repository.js';
import { BillingService } from './service.js';

export interface BillingDeps {
  db: Kysely<Database>;
  clock: Clock;
  newId: IdGenerator;
  audit: AuditService;
  counters: CounterStore;
  /** The limits' admission, wrapped by prepaid admission. */
  limits: Admission;
  /** The request-log writer, wrapped by the pricing sink. */
  log: UsageSink;
  settings: () => { currency: string; billingMaxAmountMicros: number; billingMemberWallets?: MemberWalletMode };
  /** AIHUB_PUBLIC_URL, for the top-up link of a 402. */
  publicUrl: string | undefined;
  redis?: Redis | undefined;
  redisPrefix?: string | undefined;
  /** Failed redemptions allowed per user and per IP in 15 minutes (tests lower them). */
  redeemThrottle?: { perIp?: number; perAccount?: number };
  /** Send a mail (the mailer; low-balance notices). */
  mail: (message: MailMessage) => void;
  /** How often pending usage charges are written (ms). */
  chargeIntervalMs?: number;
}

export interface Billing {
  service: BillingService;
  groups: PricingGroupService;
  redemption: RedemptionService;
  wallets: WalletCounters;
  /** Prices and member wallets as this instance knows them (refreshed over the change bus). */
  directory: BillingDirectory;
  charger: UsageCharger;
  notifier: LowBalanceNotifier;
  /** What the data plane admits through (prepaid balance, then the limits). */
  admission: Admission;
  /** What the data plane records through (list price, usage charges, then the request log). */
  usage: UsageSink;
  /** Write pending charges (shutdown). */
  close(): Promise<void>;
}

export function createBilling(deps: BillingDeps): Billing {
  const repo = new BillingRepository(deps.db);
  const groupRepo = new PricingGroupRepository(deps.db);
  const directory = new BillingDirectory();
  directory.useWalletMode(() => deps.settings().billingMemberWallets ?? 'off');
  const notifier = new LowBalanceNotifier({
    repo,
    mail: deps.mail,
    currency: () => deps.settings().currency,
    publicUrl: deps.publicUrl,
  });
  const service = new BillingService({
    onLowBalance: (notice) => void notifier.notify(notice),
    repo,
    directory,
    groups: groupRepo,
    clock: deps.clock,
    newId: deps.newId,
    settings: () => {
      const s = deps.settings();
      return {
        currency: s.currency,
        maxAmountMicros: s.billingMaxAmountMicros,
        memberWallets: s.billingMemberWallets ?? 'off',
      };
    },
  });
  const charger = new UsageCharger({
    post: (posting) => service.post(posting),
    newId: deps.newId,
    intervalMs: deps.chargeIntervalMs,
  });
  const wallets = new WalletCounters({
    counters: deps.counters,
    balanceOf: async (walletKey) =>
      walletKey.startsWith('mwl_')
        ? Number((await repo.memberWalletById(walletKey))?.balance_micros ?? 0)
        : (await service.wallet(walletKey)).balanceMicros,
    flushCharges: () => charger.flush(),
  });
  service.mirrorTo(wallets);
  const redemption = new RedemptionService({
    repo,
    billing: service,
    throttle: new LoginThrottle({
      perIp: deps.redeemThrottle?.perIp ?? 50,
      perAccount: deps.redeemThrottle?.perAccount ?? 10,
      windowSeconds: 900,
      redis: deps.redis,
      keyPrefix: `${deps.redisPrefix ?? 'aihub'}:redeem`,
      what: 'failed redemption attempts',
    }),
    clock: deps.clock,
    newId: deps.newId,
    audit: (who, outcome, detail) =>
      deps.audit.record({
        orgId: who.orgId,
        actor: who.userId ? { type: 'user', id: who.userId } : { type: 'master_key', id: null },
        action: outcome === 'redeemed' ? 'billing.redeem' : 'billing.redeem_failed',
        targetType: 'redemption_code',
        targetId: typeof detail.codeId === 'string' ? detail.codeId : null,
        ip: who.ip,
        detail: { outcome, ...detail },
      }),
  });
  const publicUrl = deps.publicUrl;
  const groups = new PricingGroupService({
    repo: groupRepo,
    clock: deps.clock,
    newId: deps.newId,
    changed: () => service.reloadAndPublish(),
  });
  return {
    service,
    groups,
    redemption,
    wallets,
    directory,
    charger,
    notifier,
    admission: new PrepaidAdmission({
      inner: deps.limits,
      wallets,
      directory,
      topUpUrl: () => (publicUrl ? `${publicUrl}/billing` : undefined),
    }),
    usage: new BilledUsageSink(deps.log, directory, charger, wallets),
    close: () => charger.close(),
  };
}
