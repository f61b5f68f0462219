import { randomInt } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import type { RedemptionBatchesTable } from '../../infra/db/schema.js';
import type { LoginThrottle } from '../auth/throttle.js';
import type { BillingRepository } from './repository.js';
import { type BillingService, type TransactionView, toView } from './service.js';

/** Letters and digits that cannot be misread (no 0/O, 1/I/L). */
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
/** 16 symbols of 31: ~79 bits, far beyond guessing at the throttle's pace. */
const CODE_LENGTH = 16;
export const MAX_CODES_PER_BATCH = 10_000;

export interface BatchInput {
  name: string;
  prefix?: string;
  amountMicros: number;
  count: number;
  maxUses?: number;
  expiresAt?: number | null;
}

export interface BatchView {
  id: string;
  name: string;
  prefix: string;
  amountMicros: number;
  count: number;
  maxUses: number;
  expiresAt: number | null;
  status: 'active' | 'disabled';
  redeemed: number;
  createdAt: number;
}

/** Who redeems, for the ledger, the audit log and the throttle. */
export interface Redeemer {
  orgId: string;
  userId: string | null;
  ip: string;
}

/** How an attempt ended (audited, whatever the outcome). */
export type RedeemOutcome =
  | 'redeemed'
  | 'unknown'
  | 'disabled'
  | 'expired'
  | 'used_up'
  | 'already_redeemed'
  | 'throttled';

export interface RedemptionDeps {
  repo: BillingRepository;
  billing: BillingService;
  throttle: LoginThrottle;
  clock: Clock;
  newId: IdGenerator;
  /** Every attempt, for the audit log (never the whole code: its batch and last four symbols). */
  audit: (redeemer: Redeemer, outcome: RedeemOutcome, detail: Record<string, unknown>) => Promise<void>;
}

/** Batches of redemption codes (platform admins) and their redemption by organizations. */
export class RedemptionService {
  constructor(private readonly deps: RedemptionDeps) {}

  async createBatch(input: BatchInput, actor: string | null): Promise<{ batch: BatchView; codes: string[] }> {
    this.deps.billing.checkAmount(input.amountMicros, 'amountMicros');
    if (!Number.isInteger(input.count) || input.count < 1 || input.count > MAX_CODES_PER_BATCH)
      throw new ApiError('validation_failed', `body.count must be between 1 and ${MAX_CODES_PER_BATCH}`, {
        param: 'count',
      });
    const now = this.deps.clock.now();
    if (input.expiresAt != null && input.expiresAt <= now)
      throw new ApiError('validation_failed', 'body.expiresAt must be in the future', { param: 'expiresAt' });
    const prefix = (input.prefix ?? '').toUpperCase();
    const codes = new Set<string>();
    while (codes.size < input.count) codes.add(`${prefix ? `${prefix}-` : ''}${randomCode()}`);
    const batch: RedemptionBatchesTable = {
      id: this.deps.newId('rcb'),
      name: input.name,
      prefix,
      amount_micros: input.amountMicros,
      code_count: input.count,
      max_uses: input.maxUses ?? 1,
      expires_at: input.expiresAt ?? null,
      status: 'active',
      created_by: actor,
      created_at: now,
      updated_at: now,
    };
    const list = [...codes];
    await this.deps.repo.insertBatch(
      batch,
      list.map((code) => ({ id: this.deps.newId('rcd'), code })),
    );
    return { batch: batchView({ ...batch, redeemed: 0 }), codes: list };
  }

  async listBatches(): Promise<BatchView[]> {
    return (await this.deps.repo.listBatches()).map(batchView);
  }

  async setStatus(id: string, status: 'active' | 'disabled'): Promise<BatchView> {
    if (!(await this.deps.repo.batch(id))) throw notFound('Redemption batch');
    await this.deps.repo.setBatchStatus(id, status, this.deps.clock.now());
    const found = (await this.deps.repo.listBatches()).find((b) => b.id === id);
    if (!found) throw notFound('Redemption batch');
    return batchView(found);
  }

  /** The batch's codes as CSV (code, amount, uses, max uses, expiry, status). */
  async exportCsv(id: string): Promise<{ batch: BatchView; csv: string }> {
    const batch = (await this.deps.repo.listBatches()).find((b) => b.id === id);
    if (!batch) throw notFound('Redemption batch');
    const codes = await this.deps.repo.codesOf(id);
    const expires = batch.expires_at === null ? '' : new Date(Number(batch.expires_at)).toISOString();
    const lines = ['code,amount_micros,uses,max_uses,expires_at,status'];
    for (const c of codes)
      lines.push([c.code, batch.amount_micros, c.uses, batch.max_uses, expires, batch.status].join(','));
    return { batch: batchView(batch), csv: `${lines.join('\n')}\n` };
  }

  /**
   * Redeem a code for an organization: one transaction takes a use of the code (only while it has one left),
   * records the organization's use (once per code and organization) and credits the wallet; 200 concurrent
   * attempts credit it once. Failures count towards the throttle (per user and per IP).
   */
  async redeem(rawCode: string, who: Redeemer): Promise<TransactionView> {
    const account = who.userId ?? `org:${who.orgId}`;
    const code = rawCode.trim().toUpperCase();
    const hint = code.slice(-4);
    try {
      await this.deps.throttle.check(who.ip, account);
    } catch (error) {
      await this.deps.audit(who, 'throttled', { hint });
      throw error;
    }
    const fail = async (outcome: RedeemOutcome, error: ApiError, detail: Record<string, unknown> = {}) => {
      await this.deps.throttle.recordFailure(who.ip, account);
      await this.deps.audit(who, outcome, { hint, ...detail });
      return error;
    };
    const found = code === '' ? undefined : await this.deps.repo.findCode(code);
    if (!found) throw await fail('unknown', new ApiError('not_found', 'No such redemption code', { param: 'code' }));
    const detail = { batchId: found.batch_id, codeId: found.id };
    if (found.status !== 'active')
      throw await fail('disabled', new ApiError('code_disabled', 'This redemption code has been disabled'), detail);
    if (found.expires_at !== null && Number(found.expires_at) <= this.deps.clock.now())
      throw await fail('expired', new ApiError('code_expired', 'This redemption code has expired'), detail);
    const amount = Number(found.amount_micros);
    const now = this.deps.clock.now();
    let outcome = 'redeemed' as RedeemOutcome;
    let credited: TransactionView | undefined;
    try {
      credited = await this.deps.repo.transaction(async (trx) => {
        if (await this.deps.repo.hasUsed(trx, found.id, who.orgId)) {
          outcome = 'already_redeemed';
          return undefined;
        }
        if (!(await this.deps.repo.takeUse(trx, found.id, found.max_uses))) {
          outcome = 'used_up';
          return undefined;
        }
        const row = await this.deps.repo.append(trx, {
          id: this.deps.newId('wtx'),
          orgId: who.orgId,
          kind: 'redemption',
          amountMicros: amount,
          reference: `redeem:${found.id}:${who.orgId}`,
          reason: null,
          actor: who.userId ?? 'master',
          detail,
          at: now,
        });
        await this.deps.repo.insertUse(trx, {
          id: this.deps.newId('rcu'),
          codeId: found.id,
          orgId: who.orgId,
          userId: who.userId,
          transactionId: row.id,
          at: now,
        });
        return toView(row);
      });
    } catch (error) {
      // A concurrent redemption by the same organization won the unique (code, organization); anything else
      // (the database failing) is not the caller's fault and is not reported as theirs.
      if (!(await this.deps.repo.transaction((trx) => this.deps.repo.hasUsed(trx, found.id, who.orgId)))) throw error;
      outcome = 'already_redeemed';
    }
    if (!credited) {
      if (outcome === 'used_up')
        throw await fail('used_up', new ApiError('code_used_up', 'This redemption code has been used up'), detail);
      throw await fail(
        'already_redeemed',
        new ApiError('already_redeemed', 'Your organization has already redeemed this code'),
        detail,
      );
    }
    await this.deps.billing.mirrorCredit(who.orgId, amount);
    await this.deps.throttle.recordSuccess(account);
    await this.deps.audit(who, 'redeemed', { hint, ...detail, amountMicros: amount, transactionId: credited.id });
    return credited;
  }
}

function randomCode(): string {
  let out = '';
  for (let i = 0; i < CODE_LENGTH; i++) {
    out += ALPHABET[randomInt(ALPHABET.length)];
    if (i % 4 === 3 && i < CODE_LENGTH - 1) out += '-';
  }
  return out;
}

function batchView(b: RedemptionBatchesTable & { redeemed: number }): BatchView {
  return {
    id: b.id,
    name: b.name,
    prefix: b.prefix,
    amountMicros: Number(b.amount_micros),
    count: Number(b.code_count),
    maxUses: Number(b.max_uses),
    expiresAt: b.expires_at === null ? null : Number(b.expires_at),
    status: b.status,
    redeemed: Number(b.redeemed ?? 0),
    createdAt: Number(b.created_at),
  };
}
