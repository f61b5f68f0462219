/**
 * List prices: what a customer pays for a request is its cost (the model's price, what the operator pays
 * upstream) times the customer's price multiplier — the team's when it has one, else the organization's.
 * A pricing group adds a named multiplier and per-model overrides (a multiplier, or a fixed list price per
 * 1M tokens) that organizations and teams follow. Integer arithmetic only (micro-units × parts per million
 * overflows a double's exact range, so BigInt).
 */
import { costOf } from '../../gateway/index.js';

/** A multiplier of 1 in parts per million. */
export const PPM_ONE = 1_000_000;

const PPM_ONE_BIG = 1_000_000n;
const HALF_BIG = 500_000n;

/** `costMicros × ppm / 1e6`, rounded half up; exact for any integer inputs. */
export function listPrice(costMicros: number, ppm: number): number {
  if (ppm === PPM_ONE || costMicros === 0) return costMicros;
  return Number((BigInt(costMicros) * BigInt(ppm) + HALF_BIG) / PPM_ONE_BIG);
}

/** A per-model override of a pricing group: a multiplier of the cost, or a fixed list price per 1M tokens. */
export type ModelOverride =
  | { model: string; multiplierPpm: number }
  | { model: string; inputPrice: number; outputPrice: number; cachedInputPrice: number | null };

/** A pricing group as the data plane prices with it. */
export interface PricingGroup {
  ppm: number;
  overrides: Map<string, ModelOverride>;
}

/** What the data plane needs to price and bill a request, read from memory (refreshed on change). */
export interface PricingSnapshot {
  /** Multipliers set on organizations (absent = 1). */
  orgs: Map<string, number>;
  /** Multipliers set on teams (they override their organization's). */
  teams: Map<string, number>;
  /** Organizations billed in advance from their balance. */
  prepaid: Set<string>;
  /** Pricing groups by id, and which organizations and teams follow which (absent: none). */
  groups?: Map<string, PricingGroup>;
  orgGroups?: Map<string, string>;
  teamGroups?: Map<string, string>;
  /** Team and user wallets by owner (`team:<teamId>`, `user:<orgId>:<userId>`) → their id. */
  memberWallets?: Map<string, string>;
}

/** Which member wallets are used (setting billingMemberWallets). */
export type MemberWalletMode = 'off' | 'team' | 'user' | 'team_and_user';

/** The tokens of a request row that a fixed per-model price needs. */
export interface BilledTokens {
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
}

/** The list price of one request under a per-model override (pure). */
export function overridePrice(override: ModelOverride, costMicros: number, tokens: BilledTokens): number {
  if ('multiplierPpm' in override) return listPrice(costMicros, override.multiplierPpm);
  return costOf(
    {
      prompt: tokens.prompt_tokens,
      completion: tokens.completion_tokens,
      cached: tokens.cached_tokens,
      reasoning: 0,
      estimated: false,
    },
    { input: override.inputPrice, output: override.outputPrice, cachedInput: override.cachedInputPrice },
  );
}

/**
 * The in-memory view of every organization's and team's multiplier and billing mode. `replace` swaps the
 * whole snapshot (loaded by the billing service), so a reader never sees half of a reload.
 */
export class BillingDirectory {
  #snapshot: PricingSnapshot = { orgs: new Map(), teams: new Map(), prepaid: new Set() };

  #walletMode: () => MemberWalletMode = () => 'off';

  replace(snapshot: PricingSnapshot): void {
    this.#snapshot = snapshot;
  }

  /** Where the member-wallet setting is read (each request: a setting change applies at once). */
  useWalletMode(mode: () => MemberWalletMode): void {
    this.#walletMode = mode;
  }

  /**
   * The wallet a prepaid organization's request is charged to: the key owner's user wallet when user wallets
   * are on and it has one, else the key's team wallet when team wallets are on and it has one, else the
   * organization's. The answer is a wallet key: the organization's id, or the member wallet's id (`mwl_…`).
   */
  walletOf(orgId: string, teamId: string | null, userId: string | null): string {
    const mode = this.#walletMode();
    if (mode === 'off') return orgId;
    const wallets = this.#snapshot.memberWallets;
    if (!wallets) return orgId;
    if (userId !== null && (mode === 'user' || mode === 'team_and_user')) {
      const id = wallets.get(`user:${orgId}:${userId}`);
      if (id !== undefined) return id;
    }
    if (teamId !== null && (mode === 'team' || mode === 'team_and_user')) {
      const id = wallets.get(`team:${teamId}`);
      if (id !== undefined) return id;
    }
    return orgId;
  }

  /**
   * Who prices a request: the team when it has a multiplier or a pricing group of its own, else the
   * organization. Its own multiplier wins over its group's.
   */
  private resolve(orgId: string | null, teamId: string | null): { ppm: number; group: PricingGroup | undefined } {
    const s = this.#snapshot;
    if (teamId !== null) {
      const own = s.teams.get(teamId);
      const group = this.groupOf(s.teamGroups, teamId);
      if (own !== undefined || group !== undefined) return { ppm: own ?? group?.ppm ?? PPM_ONE, group };
    }
    if (orgId === null) return { ppm: PPM_ONE, group: undefined };
    const own = s.orgs.get(orgId);
    const group = this.groupOf(s.orgGroups, orgId);
    return { ppm: own ?? group?.ppm ?? PPM_ONE, group };
  }

  private groupOf(assigned: Map<string, string> | undefined, id: string): PricingGroup | undefined {
    const groupId = assigned?.get(id);
    return groupId === undefined ? undefined : this.#snapshot.groups?.get(groupId);
  }

  /** The multiplier (ppm) that applies to a request of `orgId`, billed to `teamId` (any model). */
  multiplier(orgId: string | null, teamId: string | null): number {
    return this.resolve(orgId, teamId).ppm;
  }

  /**
   * The list price of one request row: its pricing group's override for the model when there is one, else
   * the cost × the multiplier.
   */
  priceOf(
    row: BilledTokens & { org_id: string | null; team_id: string | null; model: string; cost_micros: number },
  ): number {
    const { ppm, group } = this.resolve(row.org_id, row.team_id);
    const override = group?.overrides.get(row.model);
    return override ? overridePrice(override, row.cost_micros, row) : listPrice(row.cost_micros, ppm);
  }

  isPrepaid(orgId: string | null): boolean {
    return orgId !== null && this.#snapshot.prepaid.has(orgId);
  }
}
