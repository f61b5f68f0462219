/**
 * List prices: what a customer pays for a request is its cost (the model's price, what the operator pays
 * upstream) times the customer's price multiplier — the team's when it has one, else the organization's.
 * Integer arithmetic only (micro-units × parts per million overflows a double's exact range, so BigInt).
 */

/** A multiplier of 1 in parts per million. */
export const PPM_ONE = 1_000_000;

const PPM_ONE_BIG = 1_000_000n;
const HALF_BIG = 500_000n;

/** `costMicros × ppm / 1e6`, rounded half up; exact for any integer inputs. */
export function listPrice(costMicros: number, ppm: number): number {
  if (ppm === PPM_ONE || costMicros === 0) return costMicros;
  return Number((BigInt(costMicros) * BigInt(ppm) + HALF_BIG) / PPM_ONE_BIG);
}

/** What the data plane needs to price and bill a request, read from memory (refreshed on change). */
export interface PricingSnapshot {
  /** Multipliers set on organizations (absent = 1). */
  orgs: Map<string, number>;
  /** Multipliers set on teams (they override their organization's). */
  teams: Map<string, number>;
  /** Organizations billed in advance from their balance. */
  prepaid: Set<string>;
}

/**
 * The in-memory view of every organization's and team's multiplier and billing mode. `replace` swaps the
 * whole snapshot (loaded by the billing service), so a reader never sees half of a reload.
 */
export class BillingDirectory {
  #snapshot: PricingSnapshot = { orgs: new Map(), teams: new Map(), prepaid: new Set() };

  replace(snapshot: PricingSnapshot): void {
    this.#snapshot = snapshot;
  }

  /** The multiplier (ppm) that applies to a request of `orgId`, billed to `teamId`. */
  multiplier(orgId: string | null, teamId: string | null): number {
    const s = this.#snapshot;
    if (teamId !== null) {
      const team = s.teams.get(teamId);
      if (team !== undefined) return team;
    }
    const org = orgId === null ? undefined : s.orgs.get(orgId);
    return org ?? PPM_ONE;
  }

  isPrepaid(orgId: string | null): boolean {
    return orgId !== null && this.#snapshot.prepaid.has(orgId);
  }
}
