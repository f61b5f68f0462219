import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import type { WalletTransactionKind, WalletTransactionsTable } from '../../infra/db/schema.js';
import { parseOverrides } from './groups.js';
import type { PricingGroupRepository } from './groups-repository.js';
import type { BillingDirectory, MemberWalletMode, PricingGroup } from './pricing.js';
import type { BillingRepository } from './repository.js';

export type BillingMode = 'postpaid' | 'prepaid';

/** An organization's wallet as the API shows it. */
export interface WalletView {
  orgId: string;
  balanceMicros: number;
  billingMode: BillingMode;
  lowBalanceThresholds: number[];
  /** Where low-balance notices are POSTed (null: mail only). */
  lowBalanceWebhookUrl: string | null;
  currency: string;
}

/** One ledger entry as the API shows it. */
export interface TransactionView {
  id: string;
  orgId: string;
  /** A team or user wallet's entry; null: the organization's wallet. */
  walletId: string | null;
  kind: WalletTransactionKind;
  amountMicros: number;
  balanceAfterMicros: number;
  reference: string | null;
  reason: string | null;
  actor: string | null;
  detail: Record<string, unknown> | null;
  createdAt: number;
}

/** A credit or debit to write (the service fills in the id and time). */
export interface Posting {
  orgId: string;
  /** A team or user wallet of the organization (member_wallets.id); absent/null: the organization's wallet. */
  walletId?: string | null;
  kind: WalletTransactionKind;
  amountMicros: number;
  /** Unique external reference: a second posting with it returns the first and changes nothing. */
  reference?: string | null;
  reason?: string | null;
  actor?: string | null;
  detail?: Record<string, unknown> | null;
}

/** Where a posted amount is reflected at once for prepaid admission (see prepaid.ts WalletCounters). */
export interface BalanceMirror {
  /** `walletKey`: the organization's id, or a team or user wallet's id. */
  credited(walletKey: string, amountMicros: number): Promise<void>;
}

/** A team's or a user's wallet as the API shows it. */
export interface MemberWalletView {
  id: string;
  orgId: string;
  ownerType: 'team' | 'user';
  ownerId: string;
  /** The team's name or the user's email. */
  ownerLabel: string | null;
  balanceMicros: number;
  currency: string;
  createdAt: number;
}

export interface BillingServiceDeps {
  repo: BillingRepository;
  directory: BillingDirectory;
  /** Pricing groups, loaded into the directory with the multipliers. */
  groups?: PricingGroupRepository;
  clock: Clock;
  newId: IdGenerator;
  /** The instance's currency and the largest amount one adjustment or code may carry. */
  settings: () => { currency: string; maxAmountMicros: number; memberWallets?: MemberWalletMode };
  mirror?: BalanceMirror;
  /** Told (after commit) when a posting took a balance below a threshold not told about yet. */
  onLowBalance?: (notice: { orgId: string; balanceMicros: number; thresholdMicros: number }) => void;
}

/**
 * Wallets and their ledger. Every change of a balance is one appended `wallet_transactions` row written in
 * the same database transaction as the wallet's cached balance, so the balance is always the ledger's sum.
 */
export class BillingService {
  readonly #listeners: Array<() => void> = [];
  #mirror: BalanceMirror | undefined;

  constructor(private readonly deps: BillingServiceDeps) {
    this.#mirror = deps.mirror;
  }

  /** Mirror balances into the admission counters (set once the counters exist). */
  mirrorTo(mirror: BalanceMirror): void {
    this.#mirror = mirror;
  }

  /** Told when a billing mode changed (other instances reload). */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** Reload the data plane's view of multipliers and billing modes. */
  async load(): Promise<void> {
    const [s, g, members] = await Promise.all([
      this.deps.repo.pricingSnapshot(),
      this.deps.groups?.snapshot(),
      this.deps.repo.memberWalletOwners(),
    ]);
    const groups = new Map<string, PricingGroup>(
      (g?.groups ?? []).map((row) => [
        row.id,
        {
          ppm: Number(row.multiplier_ppm),
          overrides: new Map(parseOverrides(row.overrides).map((o) => [o.model, o])),
        },
      ]),
    );
    this.deps.directory.replace({
      orgs: new Map(s.orgs.map((o) => [o.id, o.ppm])),
      teams: new Map(s.teams.map((t) => [t.id, t.ppm])),
      prepaid: new Set(s.prepaid),
      groups,
      orgGroups: new Map((g?.orgs ?? []).map((o) => [o.id, o.group])),
      teamGroups: new Map((g?.teams ?? []).map((t) => [t.id, t.group])),
      memberWallets: new Map(
        members.map((w) => [w.owner_type === 'team' ? `team:${w.owner_id}` : `user:${w.org_id}:${w.owner_id}`, w.id]),
      ),
    });
  }

  /** Reload prices here and tell the other instances (a pricing group changed). */
  async reloadAndPublish(): Promise<void> {
    await this.load();
    for (const listener of this.#listeners) listener();
  }

  async wallet(orgId: string): Promise<WalletView> {
    const w = await this.deps.repo.wallet(orgId);
    return {
      orgId,
      balanceMicros: Number(w?.balance_micros ?? 0),
      billingMode: w?.billing_mode ?? 'postpaid',
      lowBalanceThresholds: w?.low_balance_thresholds ? (JSON.parse(w.low_balance_thresholds) as number[]) : [],
      lowBalanceWebhookUrl: w?.low_balance_webhook_url ?? null,
      currency: this.deps.settings().currency,
    };
  }

  async listWallets(): Promise<Array<WalletView & { name: string; slug: string }>> {
    const currency = this.deps.settings().currency;
    return (await this.deps.repo.listWallets()).map((w) => ({
      orgId: w.org_id,
      name: w.name,
      slug: w.slug,
      // An organization without a wallet yet: zero, postpaid.
      balanceMicros: Number(w.balance_micros ?? 0),
      billingMode: w.billing_mode ?? 'postpaid',
      lowBalanceThresholds: w.low_balance_thresholds ? (JSON.parse(w.low_balance_thresholds) as number[]) : [],
      lowBalanceWebhookUrl: w.low_balance_webhook_url ?? null,
      currency,
    }));
  }

  async transactions(orgId: string, limit: number, before?: string): Promise<TransactionView[]> {
    return (await this.deps.repo.listTransactions(orgId, limit, before)).map(toView);
  }

  /**
   * Append a posting to the ledger (idempotent by reference). Credits are mirrored into the prepaid
   * counters at once; usage debits are not (the counters took them when each request settled).
   */
  async post(p: Posting): Promise<TransactionView> {
    const reference = p.reference ?? null;
    if (reference !== null) {
      const seen = await this.deps.repo.findByReference(reference);
      if (seen) return toView(seen);
    }
    let row: WalletTransactionsTable;
    try {
      row = await this.deps.repo.transaction((trx) =>
        this.deps.repo.append(trx, {
          id: this.deps.newId('wtx'),
          orgId: p.orgId,
          walletId: p.walletId ?? null,
          kind: p.kind,
          amountMicros: p.amountMicros,
          reference,
          reason: p.reason ?? null,
          actor: p.actor ?? null,
          detail: p.detail ?? null,
          at: this.deps.clock.now(),
        }),
      );
    } catch (error) {
      // Two postings of one reference at once: the unique reference let one through; return it.
      const seen = reference === null ? undefined : await this.deps.repo.findByReference(reference);
      if (seen) return toView(seen);
      throw error;
    }
    if (p.kind !== 'usage') await this.#mirror?.credited(p.walletId ?? p.orgId, p.amountMicros);
    const notice = (row as { notice?: number | null }).notice;
    if (notice !== undefined && notice !== null)
      this.deps.onLowBalance?.({
        orgId: p.orgId,
        balanceMicros: Number(row.balance_after_micros),
        thresholdMicros: notice,
      });
    return toView(row);
  }

  /** The ledger entry posted under an external reference (e.g. a Stripe payment), if it was posted. */
  async entryByReference(reference: string): Promise<TransactionView | undefined> {
    const row = await this.deps.repo.findByReference(reference);
    return row ? toView(row) : undefined;
  }

  /** A credit written to the ledger by another transaction (a redemption): available to prepaid admission at once. */
  async mirrorCredit(orgId: string, amountMicros: number): Promise<void> {
    await this.#mirror?.credited(orgId, amountMicros);
  }

  /** An admin's manual credit (positive) or debit (negative), with its reason. */
  async adjust(orgId: string, amountMicros: number, reason: string, actor: string): Promise<TransactionView> {
    this.checkAmount(amountMicros, 'amountMicros', true);
    if (reason.trim() === '') throw new ApiError('validation_failed', 'body.reason is required', { param: 'reason' });
    if (!(await this.deps.repo.orgExists(orgId))) throw notFound('Organization');
    return this.post({ orgId, kind: 'adjustment', amountMicros, reason: reason.trim(), actor });
  }

  /** Change an organization's billing mode and low-balance thresholds. */
  async configure(
    orgId: string,
    patch: { billingMode?: BillingMode; lowBalanceThresholds?: number[]; lowBalanceWebhookUrl?: string | null },
  ): Promise<WalletView> {
    if (!(await this.deps.repo.orgExists(orgId))) throw notFound('Organization');
    await this.deps.repo.ensureWallet(orgId, this.deps.clock.now());
    const thresholds = patch.lowBalanceThresholds;
    await this.deps.repo.updateWallet(
      orgId,
      {
        ...(patch.billingMode ? { billing_mode: patch.billingMode } : {}),
        // New thresholds are all armed.
        ...(thresholds
          ? {
              low_balance_thresholds: JSON.stringify([...new Set(thresholds)].sort((a, b) => b - a)),
              low_balance_notified_micros: null,
            }
          : {}),
        ...(patch.lowBalanceWebhookUrl !== undefined ? { low_balance_webhook_url: patch.lowBalanceWebhookUrl } : {}),
      },
      this.deps.clock.now(),
    );
    if (patch.billingMode) {
      await this.load();
      for (const listener of this.#listeners) listener();
    }
    return this.wallet(orgId);
  }

  /** Which team and user wallets are used (setting billingMemberWallets). */
  memberWalletMode(): MemberWalletMode {
    return this.deps.settings().memberWallets ?? 'off';
  }

  /** An organization's team and user wallets. */
  async memberWallets(orgId: string): Promise<MemberWalletView[]> {
    const currency = this.deps.settings().currency;
    return (await this.deps.repo.listMemberWallets(orgId)).map((w) => ({
      id: w.id,
      orgId: w.org_id,
      ownerType: w.owner_type,
      ownerId: w.owner_id,
      ownerLabel: w.label,
      balanceMicros: Number(w.balance_micros),
      currency,
      createdAt: Number(w.created_at),
    }));
  }

  /** A team or user wallet's ledger (the wallet must be the organization's). */
  async memberTransactions(
    orgId: string,
    walletId: string,
    limit: number,
    before?: string,
  ): Promise<TransactionView[]> {
    const wallet = await this.deps.repo.memberWalletById(walletId);
    if (wallet?.org_id !== orgId) throw notFound('Wallet');
    return (await this.deps.repo.listMemberTransactions(walletId, limit, before)).map(toView);
  }

  /**
   * An admin's top-up (positive) or debit (negative) of a team's or a user's wallet, with its reason. The
   * wallet is created on first use; from then on (with the setting on) the owner's prepaid requests are
   * charged to it.
   */
  async adjustMember(
    orgId: string,
    owner: { type: 'team' | 'user'; id: string },
    amountMicros: number,
    reason: string,
    actor: string,
  ): Promise<TransactionView & { walletId: string }> {
    this.checkAmount(amountMicros, 'amountMicros', true);
    if (reason.trim() === '') throw new ApiError('validation_failed', 'body.reason is required', { param: 'reason' });
    if (!(await this.deps.repo.orgExists(orgId))) throw notFound('Organization');
    if (!(await this.deps.repo.ownerBelongs(orgId, owner.type, owner.id)))
      throw notFound(owner.type === 'team' ? 'Team' : 'Member');
    const created = await this.deps.repo.ensureMemberWallet({
      id: this.deps.newId('mwl'),
      org_id: orgId,
      owner_type: owner.type,
      owner_id: owner.id,
      created_at: this.deps.clock.now(),
    });
    const wallet = await this.deps.repo.memberWallet(orgId, owner.type, owner.id);
    if (!wallet) throw notFound('Wallet');
    const entry = await this.post({
      orgId,
      walletId: wallet.id,
      kind: 'adjustment',
      amountMicros,
      reason: reason.trim(),
      actor,
    });
    // A new wallet changes where the owner's requests are charged: every instance reloads its routing.
    if (created) await this.reloadAndPublish();
    return { ...entry, walletId: wallet.id };
  }

  /** Wallets whose balance is not the sum of their ledger (empty when all is well). */
  verify(): Promise<Array<{ orgId: string; walletId?: string; balance: number; ledger: number }>> {
    return this.deps.repo.mismatches();
  }

  /** Refuse a zero, negative (unless `signed`) or too large amount, naming the field. */
  checkAmount(amount: number, field: string, signed = false): void {
    const max = this.deps.settings().maxAmountMicros;
    if (!Number.isSafeInteger(amount))
      throw new ApiError('validation_failed', `body.${field} must be an integer of micro-units`, { param: field });
    if (amount === 0 || (!signed && amount < 0))
      throw new ApiError('validation_failed', `body.${field} must be ${signed ? 'non-zero' : 'positive'}`, {
        param: field,
      });
    if (Math.abs(amount) > max)
      throw new ApiError('validation_failed', `body.${field} must be at most ${max} (billingMaxAmountMicros)`, {
        param: field,
      });
  }
}

export function toView(row: WalletTransactionsTable): TransactionView {
  return {
    id: row.id,
    orgId: row.org_id,
    walletId: row.wallet_id ?? null,
    kind: row.kind,
    amountMicros: Number(row.amount_micros),
    balanceAfterMicros: Number(row.balance_after_micros),
    reference: row.reference,
    reason: row.reason,
    actor: row.actor,
    detail: row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : null,
    createdAt: Number(row.created_at),
  };
}
