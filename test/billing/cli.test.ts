/** `aihub billing verify`: every balance is the sum of its ledger; a wallet that is not is named, exit 1. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { newId } from '../../src/core/ids.js';
import { BillingDirectory } from '../../src/modules/billing/pricing.js';
import { BillingRepository } from '../../src/modules/billing/repository.js';
import { BillingService } from '../../src/modules/billing/service.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/databases.js';
import { databaseEnv, runCli } from '../support/processes.js';

describe.each(ENGINES)('aihub billing verify (%s)', (engine) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
  }, 60_000);
  afterAll(async () => db?.drop());

  it('passes when balances match their ledgers and names the wallet that does not', async () => {
    const env = databaseEnv(db);
    expect((await runCli(['migrate'], env)).code).toBe(0);
    const org = await db.handle.db.selectFrom('organizations').select('id').executeTakeFirstOrThrow();
    const billing = new BillingService({
      repo: new BillingRepository(db.handle.db),
      directory: new BillingDirectory(),
      clock: systemClock,
      newId: (prefix) => newId(prefix),
      settings: () => ({ currency: 'USD', maxAmountMicros: 1_000_000 }),
    });
    await billing.post({ orgId: org.id, kind: 'top_up', amountMicros: 700, reference: 'pay_1' });
    // The same external reference again (a replayed payment event) changes nothing.
    await billing.post({ orgId: org.id, kind: 'top_up', amountMicros: 700, reference: 'pay_1' });
    await billing.post({ orgId: org.id, kind: 'usage', amountMicros: -200 });
    expect((await billing.wallet(org.id)).balanceMicros).toBe(500);

    const ok = await runCli(['billing', 'verify'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('Every balance is the sum of its ledger');

    // Tampering with the cached balance behind the ledger's back is caught.
    await db.handle.db.updateTable('wallets').set({ balance_micros: 999 }).where('org_id', '=', org.id).execute();
    const bad = await runCli(['billing', 'verify'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${org.id}: balance 999 but the ledger sums to 500`);
  }, 120_000);
});
