import type { Kysely, Transaction } from 'kysely';
import type {
  Database,
  MemberWalletsTable,
  RedemptionBatchesTable,
  WalletsTable,
  WalletTransactionKind,
  WalletTransactionsTable,
} from '../../infra/db/schema.js';
import { lowBalanceCrossing } from './notices.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A ledger entry to append (its balance after is computed in the same transaction). */
export interface LedgerEntry {
  id: string;
  orgId: string;
  /** A team or user wallet (member_wallets.id); null: the organization's wallet. */
  walletId?: string | null;
  kind: WalletTransactionKind;
  amountMicros: number;
  reference: string | null;
  reason: string | null;
  actor: string | null;
  detail: Record<string, unknown> | null;
  at: number;
}

/** The wallets, their append-only ledger and the redemption codes. Only data access, no rules. */
export class BillingRepository {
  constructor(readonly db: Kysely<Database>) {}

  /** Run `work` in one transaction. */
  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(work);
  }

  async wallet(orgId: string, db: Db = this.db): Promise<WalletsTable | undefined> {
    return db.selectFrom('wallets').selectAll().where('org_id', '=', orgId).executeTakeFirst();
  }

  /** Every organization with its wallet, if it has one yet (admins' list). */
  listWallets(): Promise<
    Array<{
      org_id: string;
      name: string;
      slug: string;
      balance_micros: number | null;
      billing_mode: WalletsTable['billing_mode'] | null;
      low_balance_thresholds: string | null;
      low_balance_webhook_url: string | null;
    }>
  > {
    return this.db
      .selectFrom('organizations')
      .leftJoin('wallets', 'wallets.org_id', 'organizations.id')
      .select([
        'organizations.id as org_id',
        'organizations.name',
        'organizations.slug',
        'wallets.balance_micros',
        'wallets.billing_mode',
        'wallets.low_balance_thresholds',
        'wallets.low_balance_webhook_url',
      ])
      .orderBy('organizations.name')
      .execute();
  }

  async ensureWallet(orgId: string, at: number, db: Db = this.db): Promise<void> {
    await db
      .insertInto('wallets')
      .values({
        org_id: orgId,
        balance_micros: 0,
        billing_mode: 'postpaid',
        low_balance_thresholds: null,
        low_balance_notified_micros: null,
        low_balance_webhook_url: null,
        created_at: at,
        updated_at: at,
      })
      .onConflict((oc) => oc.column('org_id').doNothing())
      .execute();
  }

  async updateWallet(
    orgId: string,
    patch: Partial<
      Pick<
        WalletsTable,
        'billing_mode' | 'low_balance_thresholds' | 'low_balance_webhook_url' | 'low_balance_notified_micros'
      >
    >,
    at: number,
  ): Promise<void> {
    await this.db
      .updateTable('wallets')
      .set({ ...patch, updated_at: at })
      .where('org_id', '=', orgId)
      .execute();
  }

  async findByReference(reference: string, db: Db = this.db): Promise<WalletTransactionsTable | undefined> {
    return db.selectFrom('wallet_transactions').selectAll().where('reference', '=', reference).executeTakeFirst();
  }

  /**
   * Append one entry inside `trx`: the wallet's cached balance moves by the amount and the entry records the
   * balance after it (the wallet row is locked by the update until the transaction ends). The low-balance
   * state moves with it: `notice` is the threshold just crossed downwards (to tell about once committed).
   */
  async append(
    trx: Transaction<Database>,
    entry: LedgerEntry,
  ): Promise<WalletTransactionsTable & { notice: number | null }> {
    if (entry.walletId) return this.appendMember(trx, entry, entry.walletId);
    await this.ensureWallet(entry.orgId, entry.at, trx);
    const updated = await trx
      .updateTable('wallets')
      .set((eb) => ({ balance_micros: eb('balance_micros', '+', entry.amountMicros), updated_at: entry.at }))
      .where('org_id', '=', entry.orgId)
      .returning(['balance_micros', 'low_balance_thresholds', 'low_balance_notified_micros'])
      .executeTakeFirstOrThrow();
    let notice: number | null = null;
    if (updated.low_balance_thresholds) {
      const notified =
        updated.low_balance_notified_micros === null ? null : Number(updated.low_balance_notified_micros);
      const crossing = lowBalanceCrossing(
        JSON.parse(updated.low_balance_thresholds) as number[],
        notified,
        Number(updated.balance_micros),
      );
      notice = crossing.notify;
      if (crossing.notified !== notified)
        await trx
          .updateTable('wallets')
          .set({ low_balance_notified_micros: crossing.notified })
          .where('org_id', '=', entry.orgId)
          .execute();
    }
    const row = await insertLedgerRow(trx, entry, Number(updated.balance_micros), null);
    return { ...row, notice };
  }

  /** Append to a team or user wallet (no low-balance notices: those are the organization's). */
  private async appendMember(
    trx: Transaction<Database>,
    entry: LedgerEntry,
    walletId: string,
  ): Promise<WalletTransactionsTable & { notice: null }> {
    const updated = await trx
      .updateTable('member_wallets')
      .set((eb) => ({ balance_micros: eb('balance_micros', '+', entry.amountMicros), updated_at: entry.at }))
      .where('id', '=', walletId)
      .where('org_id', '=', entry.orgId)
      .returning(['balance_micros'])
      .executeTakeFirstOrThrow();
    const row = await insertLedgerRow(trx, entry, Number(updated.balance_micros), walletId);
    return { ...row, notice: null };
  }

  /** A team's or user's wallet, created (balance 0) when it does not exist yet; true when it was created. */
  async ensureMemberWallet(wallet: Omit<MemberWalletsTable, 'balance_micros' | 'updated_at'>): Promise<boolean> {
    const result = await this.db
      .insertInto('member_wallets')
      .values({ ...wallet, balance_micros: 0, updated_at: wallet.created_at })
      .onConflict((oc) => oc.columns(['org_id', 'owner_type', 'owner_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  memberWallet(
    orgId: string,
    ownerType: MemberWalletsTable['owner_type'],
    ownerId: string,
  ): Promise<MemberWalletsTable | undefined> {
    return this.db
      .selectFrom('member_wallets')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('owner_type', '=', ownerType)
      .where('owner_id', '=', ownerId)
      .executeTakeFirst();
  }

  memberWalletById(id: string): Promise<MemberWalletsTable | undefined> {
    return this.db.selectFrom('member_wallets').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** An organization's team and user wallets, with the team's name or the user's email. */
  listMemberWallets(orgId: string): Promise<Array<MemberWalletsTable & { label: string | null }>> {
    return this.db
      .selectFrom('member_wallets')
      .leftJoin('teams', (j) =>
        j.onRef('teams.id', '=', 'member_wallets.owner_id').on('member_wallets.owner_type', '=', 'team'),
      )
      .leftJoin('users', (j) =>
        j.onRef('users.id', '=', 'member_wallets.owner_id').on('member_wallets.owner_type', '=', 'user'),
      )
      .selectAll('member_wallets')
      .select((eb) => eb.fn.coalesce('teams.name', 'users.email').as('label'))
      .where('member_wallets.org_id', '=', orgId)
      .orderBy('member_wallets.owner_type')
      .orderBy('member_wallets.created_at')
      .execute();
  }

  /** Every team and user wallet (the data plane's routing: which owners have one). */
  memberWalletOwners(): Promise<Array<Pick<MemberWalletsTable, 'id' | 'org_id' | 'owner_type' | 'owner_id'>>> {
    return this.db.selectFrom('member_wallets').select(['id', 'org_id', 'owner_type', 'owner_id']).execute();
  }

  /** Is the team the organization's, is the user a member of it? */
  async ownerBelongs(orgId: string, ownerType: MemberWalletsTable['owner_type'], ownerId: string): Promise<boolean> {
    const row =
      ownerType === 'team'
        ? await this.db
            .selectFrom('teams')
            .select('id')
            .where('id', '=', ownerId)
            .where('org_id', '=', orgId)
            .executeTakeFirst()
        : await this.db
            .selectFrom('memberships')
            .select('user_id')
            .where('user_id', '=', ownerId)
            .where('org_id', '=', orgId)
            .executeTakeFirst();
    return row !== undefined;
  }

  /** A page of a team or user wallet's ledger, newest first. */
  listMemberTransactions(walletId: string, limit: number, before?: string): Promise<WalletTransactionsTable[]> {
    let query = this.db.selectFrom('wallet_transactions').selectAll().where('wallet_id', '=', walletId);
    if (before) query = query.where('id', '<', before);
    return query.orderBy('id', 'desc').limit(limit).execute();
  }

  /** A page of an organization's own wallet's ledger, newest first (ids are time-sortable). */
  listTransactions(orgId: string, limit: number, before?: string): Promise<WalletTransactionsTable[]> {
    let query = this.db
      .selectFrom('wallet_transactions')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('wallet_id', 'is', null);
    if (before) query = query.where('id', '<', before);
    return query.orderBy('id', 'desc').limit(limit).execute();
  }

  /** Wallets whose cached balance differs from the sum of their ledger (the invariant `verify` checks). */
  async mismatches(): Promise<Array<{ orgId: string; walletId?: string; balance: number; ledger: number }>> {
    const sums = await this.db
      .selectFrom('wallet_transactions')
      .select(['org_id', (eb) => eb.fn.sum<number>('amount_micros').as('total')])
      .where('wallet_id', 'is', null)
      .groupBy('org_id')
      .execute();
    const ledger = new Map(sums.map((r) => [r.org_id, Number(r.total)]));
    const wallets = await this.db.selectFrom('wallets').select(['org_id', 'balance_micros']).execute();
    const out: Array<{ orgId: string; walletId?: string; balance: number; ledger: number }> = [];
    for (const w of wallets) {
      const sum = ledger.get(w.org_id) ?? 0;
      if (sum !== Number(w.balance_micros))
        out.push({ orgId: w.org_id, balance: Number(w.balance_micros), ledger: sum });
      ledger.delete(w.org_id);
    }
    for (const [orgId, sum] of ledger) out.push({ orgId, balance: 0, ledger: sum });
    // Team and user wallets: each balance against its own entries.
    const memberSums = await this.db
      .selectFrom('wallet_transactions')
      .select(['wallet_id', (eb) => eb.fn.sum<number>('amount_micros').as('total')])
      .where('wallet_id', 'is not', null)
      .groupBy('wallet_id')
      .execute();
    const memberLedger = new Map(memberSums.map((r) => [r.wallet_id as string, Number(r.total)]));
    const members = await this.db.selectFrom('member_wallets').select(['id', 'org_id', 'balance_micros']).execute();
    for (const w of members) {
      const sum = memberLedger.get(w.id) ?? 0;
      if (sum !== Number(w.balance_micros))
        out.push({ orgId: w.org_id, walletId: w.id, balance: Number(w.balance_micros), ledger: sum });
      memberLedger.delete(w.id);
    }
    for (const [walletId, sum] of memberLedger) out.push({ orgId: '', walletId, balance: 0, ledger: sum });
    return out;
  }

  /** What the data plane prices with: multipliers set on organizations and teams, and prepaid organizations. */
  async pricingSnapshot(): Promise<{
    orgs: Array<{ id: string; ppm: number }>;
    teams: Array<{ id: string; ppm: number }>;
    prepaid: string[];
  }> {
    const [orgs, teams, prepaid] = await Promise.all([
      this.db
        .selectFrom('organizations')
        .select(['id', 'price_multiplier_ppm'])
        .where('price_multiplier_ppm', 'is not', null)
        .execute(),
      this.db
        .selectFrom('teams')
        .select(['id', 'price_multiplier_ppm'])
        .where('price_multiplier_ppm', 'is not', null)
        .execute(),
      this.db.selectFrom('wallets').select('org_id').where('billing_mode', '=', 'prepaid').execute(),
    ]);
    return {
      orgs: orgs.map((o) => ({ id: o.id, ppm: Number(o.price_multiplier_ppm) })),
      teams: teams.map((t) => ({ id: t.id, ppm: Number(t.price_multiplier_ppm) })),
      prepaid: prepaid.map((w) => w.org_id),
    };
  }

  /** Who is told about a low balance: the owners' and billing managers' addresses. */
  async billingContacts(orgId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('memberships')
      .innerJoin('users', 'users.id', 'memberships.user_id')
      .select('users.email')
      .where('memberships.org_id', '=', orgId)
      .where('memberships.team_id', 'is', null)
      .where('memberships.role', 'in', ['owner', 'billing_manager'])
      .where('users.status', '=', 'active')
      .execute();
    return rows.map((r) => r.email);
  }

  async orgExists(orgId: string): Promise<boolean> {
    return (
      (await this.db.selectFrom('organizations').select('id').where('id', '=', orgId).executeTakeFirst()) !== undefined
    );
  }

  // Redemption codes.

  async insertBatch(batch: RedemptionBatchesTable, codes: Array<{ id: string; code: string }>): Promise<void> {
    await this.transaction(async (trx) => {
      await trx.insertInto('redemption_batches').values(batch).execute();
      for (let i = 0; i < codes.length; i += 200) {
        const chunk = codes.slice(i, i + 200).map((c) => ({
          id: c.id,
          batch_id: batch.id,
          code: c.code,
          uses: 0,
          created_at: batch.created_at,
        }));
        await trx.insertInto('redemption_codes').values(chunk).execute();
      }
    });
  }

  listBatches(): Promise<Array<RedemptionBatchesTable & { redeemed: number }>> {
    return this.db
      .selectFrom('redemption_batches')
      .selectAll('redemption_batches')
      .select((eb) =>
        eb
          .selectFrom('redemption_codes')
          .select((e) => e.fn.coalesce(e.fn.sum<number>('uses'), e.lit(0)).as('n'))
          .whereRef('redemption_codes.batch_id', '=', 'redemption_batches.id')
          .as('redeemed'),
      )
      .orderBy('created_at', 'desc')
      .execute() as Promise<Array<RedemptionBatchesTable & { redeemed: number }>>;
  }

  batch(id: string): Promise<RedemptionBatchesTable | undefined> {
    return this.db.selectFrom('redemption_batches').selectAll().where('id', '=', id).executeTakeFirst();
  }

  codesOf(batchId: string): Promise<Array<{ code: string; uses: number }>> {
    return this.db
      .selectFrom('redemption_codes')
      .select(['code', 'uses'])
      .where('batch_id', '=', batchId)
      .orderBy('id')
      .execute();
  }

  async setBatchStatus(id: string, status: RedemptionBatchesTable['status'], at: number): Promise<void> {
    await this.db.updateTable('redemption_batches').set({ status, updated_at: at }).where('id', '=', id).execute();
  }

  /** A code with its batch's rules. */
  findCode(code: string): Promise<
    | {
        id: string;
        uses: number;
        batch_id: string;
        amount_micros: number;
        max_uses: number;
        expires_at: number | null;
        status: RedemptionBatchesTable['status'];
      }
    | undefined
  > {
    return this.db
      .selectFrom('redemption_codes')
      .innerJoin('redemption_batches', 'redemption_batches.id', 'redemption_codes.batch_id')
      .select([
        'redemption_codes.id',
        'redemption_codes.uses',
        'redemption_codes.batch_id',
        'redemption_batches.amount_micros',
        'redemption_batches.max_uses',
        'redemption_batches.expires_at',
        'redemption_batches.status',
      ])
      .where('redemption_codes.code', '=', code)
      .executeTakeFirst();
  }

  /** Take one use of a code, if it has one left: true when taken (the row stays locked until commit). */
  async takeUse(trx: Transaction<Database>, codeId: string, maxUses: number): Promise<boolean> {
    const result = await trx
      .updateTable('redemption_codes')
      .set((eb) => ({ uses: eb('uses', '+', 1) }))
      .where('id', '=', codeId)
      .where('uses', '<', maxUses)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async hasUsed(trx: Transaction<Database>, codeId: string, orgId: string): Promise<boolean> {
    const row = await trx
      .selectFrom('redemption_uses')
      .select('id')
      .where('code_id', '=', codeId)
      .where('org_id', '=', orgId)
      .executeTakeFirst();
    return row !== undefined;
  }

  async insertUse(
    trx: Transaction<Database>,
    use: { id: string; codeId: string; orgId: string; userId: string | null; transactionId: string; at: number },
  ): Promise<void> {
    await trx
      .insertInto('redemption_uses')
      .values({
        id: use.id,
        code_id: use.codeId,
        org_id: use.orgId,
        user_id: use.userId,
        transaction_id: use.transactionId,
        created_at: use.at,
      })
      .execute();
  }
}

/** The ledger row of `entry` with the wallet's balance after it (`walletId` null: the organization's wallet). */
async function insertLedgerRow(
  trx: Transaction<Database>,
  entry: LedgerEntry,
  balanceAfter: number,
  walletId: string | null,
): Promise<WalletTransactionsTable> {
  const row: WalletTransactionsTable = {
    id: entry.id,
    org_id: entry.orgId,
    ...(walletId === null ? {} : { wallet_id: walletId }),
    kind: entry.kind,
    amount_micros: entry.amountMicros,
    balance_after_micros: balanceAfter,
    reference: entry.reference,
    reason: entry.reason,
    actor: entry.actor,
    detail: entry.detail === null ? null : JSON.stringify(entry.detail),
    created_at: entry.at,
  };
  await trx.insertInto('wallet_transactions').values(row).execute();
  return row;
}
