import type { Kysely } from 'kysely';
import type { AcmeCertificatesTable, Database } from '../../infra/db/schema.js';

/** The one certificate row's id: a hub serves one certificate (all its names are in it). */
const ROW = 'default';

/** Data access for the ACME certificate and its HTTP-01 challenges. */
export class AcmeRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async get(): Promise<AcmeCertificatesTable | undefined> {
    return this.db.selectFrom('acme_certificates').selectAll().where('id', '=', ROW).executeTakeFirst();
  }

  /** Create the row for these domains if there is none (two instances starting together: one insert wins). */
  async ensure(domains: string[], directoryUrl: string, now: number): Promise<void> {
    await this.db
      .insertInto('acme_certificates')
      .values({
        id: ROW,
        domains: JSON.stringify(domains),
        directory_url: directoryUrl,
        account_key: null,
        cert_pem: null,
        key_pem: null,
        issuer: null,
        not_before: null,
        not_after: null,
        renewed_at: null,
        last_attempt_at: null,
        last_error: null,
        failures: 0,
        lease_holder: null,
        lease_until: null,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  /**
   * Take the renewal lease when it is free or expired: one atomic UPDATE, so of several instances exactly one
   * gets it. Returns whether this holder has it.
   */
  async tryLease(holder: string, now: number, leaseMs: number): Promise<boolean> {
    const result = await this.db
      .updateTable('acme_certificates')
      .set({ lease_holder: holder, lease_until: now + leaseMs })
      .where('id', '=', ROW)
      .where((eb) =>
        eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now), eb('lease_holder', '=', holder)]),
      )
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async releaseLease(holder: string): Promise<void> {
    await this.db
      .updateTable('acme_certificates')
      .set({ lease_holder: null, lease_until: null })
      .where('id', '=', ROW)
      .where('lease_holder', '=', holder)
      .execute();
  }

  async update(patch: Partial<Omit<AcmeCertificatesTable, 'id'>>): Promise<void> {
    await this.db.updateTable('acme_certificates').set(patch).where('id', '=', ROW).execute();
  }

  async putChallenge(token: string, keyAuthorization: string, expiresAt: number): Promise<void> {
    await this.db
      .insertInto('acme_challenges')
      .values({ token, key_authorization: keyAuthorization, expires_at: expiresAt })
      .onConflict((oc) =>
        oc.column('token').doUpdateSet({ key_authorization: keyAuthorization, expires_at: expiresAt }),
      )
      .execute();
  }

  async challenge(token: string, now: number): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('acme_challenges')
      .select('key_authorization')
      .where('token', '=', token)
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return row?.key_authorization;
  }

  /** Remove a finished challenge and any that expired. */
  async removeChallenge(token: string, now: number): Promise<void> {
    await this.db
      .deleteFrom('acme_challenges')
      .where((eb) => eb.or([eb('token', '=', token), eb('expires_at', '<', now)]))
      .execute();
  }
}
