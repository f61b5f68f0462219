import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import { type CidrRange, formatCidr, inRange, parseCidr, parseIp } from '../../core/ip.js';
import type { IpRulesTable } from '../../infra/db/schema.js';
import type { AccessRulesRepository } from './repository.js';

export type RuleScope = 'v1' | 'api';
export type RuleAction = 'allow' | 'deny';

export interface IpRuleResponse {
  id: string;
  scope: RuleScope;
  action: RuleAction;
  cidr: string;
  note: string | null;
  createdAt: number;
  /** Requests this rule refused on this instance since it started. */
  blocked: number;
}

interface Compiled {
  id: string;
  range: CidrRange;
}

interface ScopeRules {
  deny: Compiled[];
  allow: Compiled[];
}

export interface RuleInput {
  scope: RuleScope;
  action: RuleAction;
  cidr: string;
  note?: string | null | undefined;
}

/**
 * Global IP allow/deny lists: any matching deny refuses; with allow rules present, the address must match
 * one. Rules are held compiled in memory (no query per request); refusals are counted per rule.
 */
export class AccessRulesService {
  #rules: Record<RuleScope, ScopeRules> = { v1: { deny: [], allow: [] }, api: { deny: [], allow: [] } };
  readonly #blocked = new Map<string, number>();
  readonly #blockedByScope: Record<RuleScope, number> = { v1: 0, api: 0 };
  readonly #listeners: Array<() => void> = [];

  constructor(
    private readonly repo: AccessRulesRepository,
    private readonly clock: Clock,
    private readonly newId: IdGenerator,
  ) {}

  /** Called after each change made through this service (not after a reload). */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  private async reloadChanged(): Promise<void> {
    await this.load();
    for (const listener of this.#listeners) listener();
  }

  async load(): Promise<void> {
    const rows = await this.repo.listAll();
    const next: Record<RuleScope, ScopeRules> = { v1: { deny: [], allow: [] }, api: { deny: [], allow: [] } };
    for (const row of rows) next[row.scope][row.action].push({ id: row.id, range: parseCidr(row.cidr) });
    this.#rules = next;
  }

  /** Whether `ip` may use `scope`; counts a refusal. A scope without rules costs two length checks. */
  check(scope: RuleScope, ip: string): boolean {
    const rules = this.#rules[scope];
    if (rules.deny.length === 0 && rules.allow.length === 0) return true;
    const address = parseIp(ip);
    const deny = address ? rules.deny.find((r) => inRange(address, r.range)) : undefined;
    let refusedBy = deny?.id;
    if (!refusedBy && rules.allow.length > 0 && !(address && rules.allow.some((r) => inRange(address, r.range))))
      refusedBy = `${scope}:not-allowed`;
    if (!refusedBy) return true;
    this.#blocked.set(refusedBy, (this.#blocked.get(refusedBy) ?? 0) + 1);
    this.#blockedByScope[scope]++;
    return false;
  }

  /** Throw 403 ip_not_allowed when `ip` may not use `scope`. */
  enforce(scope: RuleScope, ip: string): void {
    if (!this.check(scope, ip)) {
      throw new ApiError('ip_not_allowed', `Requests from ${ip} are not allowed here`);
    }
  }

  async list(): Promise<{
    data: IpRuleResponse[];
    blocked: Record<RuleScope, number>;
    refusedByAllowList: Record<RuleScope, number>;
  }> {
    const rows = await this.repo.listOrdered();
    return {
      data: rows.map((r) => this.toResponse(r)),
      blocked: { ...this.#blockedByScope },
      refusedByAllowList: {
        v1: this.#blocked.get('v1:not-allowed') ?? 0,
        api: this.#blocked.get('api:not-allowed') ?? 0,
      },
    };
  }

  /**
   * Add a rule. An `api` rule that would lock the calling admin out (an allow list without their address,
   * or a deny that matches it) is refused unless `force`.
   */
  async create(input: RuleInput, actor: { id: string | null; ip: string }, force = false): Promise<IpRuleResponse> {
    const cidr = this.normalise(input.cidr);
    this.guardLockout(input.scope, input.action, cidr, actor.ip, force);
    await this.assertUnique(input.scope, input.action, cidr);
    const row: IpRulesTable = {
      id: this.newId('ipr'),
      scope: input.scope,
      action: input.action,
      cidr,
      note: input.note ?? null,
      created_at: this.clock.now(),
      created_by: actor.id,
    };
    await this.repo.insert(row);
    await this.reloadChanged();
    return this.toResponse(row);
  }

  async update(
    id: string,
    patch: Partial<Omit<RuleInput, 'scope'>>,
    actor: { ip: string },
    force = false,
  ): Promise<IpRuleResponse> {
    const row = await this.repo.findById(id);
    if (!row) throw notFound('IP rule');
    const next = {
      ...row,
      action: patch.action ?? row.action,
      cidr: patch.cidr ? this.normalise(patch.cidr) : row.cidr,
      note: patch.note !== undefined ? patch.note : row.note,
    };
    this.guardLockout(row.scope, next.action, next.cidr, actor.ip, force, id);
    if (next.action !== row.action || next.cidr !== row.cidr)
      await this.assertUnique(row.scope, next.action, next.cidr, id);
    await this.repo.update(id, { action: next.action, cidr: next.cidr, note: next.note });
    await this.reloadChanged();
    return this.toResponse(next);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repo.delete(id))) throw notFound('IP rule');
    await this.reloadChanged();
  }

  /** 409 when the scope already has this action for this range (the unique index would answer a 500). */
  private async assertUnique(scope: RuleScope, action: RuleAction, cidr: string, except?: string): Promise<void> {
    if (await this.repo.exists(scope, action, cidr, except)) {
      throw new ApiError('conflict', `This ${action} rule for ${cidr} already exists`, { param: 'cidr' });
    }
  }

  private normalise(cidr: string): string {
    try {
      return formatCidr(parseCidr(cidr));
    } catch (error) {
      throw new ApiError('validation_failed', `cidr: ${(error as Error).message}`, { param: 'cidr' });
    }
  }

  private guardLockout(
    scope: RuleScope,
    action: RuleAction,
    cidr: string,
    ip: string,
    force: boolean,
    replacing?: string,
  ): void {
    if (scope !== 'api' || force) return;
    const address = parseIp(ip);
    const range = parseCidr(cidr);
    const matches = address ? inRange(address, range) : false;
    const rules = this.#rules.api;
    const otherAllows = rules.allow.filter((r) => r.id !== replacing);
    const stillAllowed = matches || (address ? otherAllows.some((r) => inRange(address, r.range)) : false);
    if ((action === 'deny' && matches) || (action === 'allow' && !stillAllowed)) {
      throw new ApiError(
        'ip_rule_lockout',
        `This rule would lock you (${ip}) out of the console and /api; add ?force=true if that is what you want`,
      );
    }
  }

  private toResponse(row: IpRulesTable): IpRuleResponse {
    return {
      id: row.id,
      scope: row.scope,
      action: row.action,
      cidr: row.cidr,
      note: row.note,
      createdAt: row.created_at,
      blocked: this.#blocked.get(row.id) ?? 0,
    };
  }
}
