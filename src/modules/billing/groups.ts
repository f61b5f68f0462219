/**
 * Pricing groups: a named multiplier with per-model overrides (a multiplier, or a fixed list price per 1M
 * tokens) that platform admins assign to organizations and teams. The data plane reads them from the
 * billing directory in memory (BillingService.load), never per request.
 */

import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import type { PricingGroupsTable } from '../../infra/db/schema.js';
import type { PricingGroupRepository } from './groups-repository.js';
import type { ModelOverride } from './pricing.js';

const PPM = 1_000_000;

/** An override as the API takes and shows it (multipliers as decimals, prices in micro-units per 1M tokens). */
export type OverrideView =
  | { model: string; multiplier: number }
  | { model: string; inputPrice: number; outputPrice: number; cachedInputPrice?: number | null };

export interface PricingGroupView {
  id: string;
  name: string;
  multiplier: number;
  overrides: OverrideView[];
  /** How many organizations and teams follow it. */
  organizations: number;
  teams: number;
  createdAt: number;
  updatedAt: number;
}

export interface PricingGroupInput {
  name?: string;
  multiplier?: number;
  overrides?: OverrideView[];
}

export interface PricingGroupServiceDeps {
  repo: PricingGroupRepository;
  clock: Clock;
  newId: IdGenerator;
  /** Reload the data plane's prices (and tell the other instances). */
  changed: () => Promise<void>;
}

/** Stored overrides (ppm) from the API's (decimals), refusing duplicates. */
export function toStoredOverrides(overrides: OverrideView[]): ModelOverride[] {
  const seen = new Set<string>();
  return overrides.map((o, i) => {
    if (seen.has(o.model))
      throw new ApiError('validation_failed', `body.overrides[${i}].model ${o.model} is listed twice`, {
        param: 'overrides',
      });
    seen.add(o.model);
    if ('multiplier' in o) return { model: o.model, multiplierPpm: Math.round(o.multiplier * PPM) };
    return {
      model: o.model,
      inputPrice: o.inputPrice,
      outputPrice: o.outputPrice,
      cachedInputPrice: o.cachedInputPrice ?? null,
    };
  });
}

export function parseOverrides(json: string): ModelOverride[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? (value as ModelOverride[]) : [];
}

function toView(row: PricingGroupsTable, counts = { organizations: 0, teams: 0 }): PricingGroupView {
  return {
    id: row.id,
    name: row.name,
    multiplier: Number(row.multiplier_ppm) / PPM,
    overrides: parseOverrides(row.overrides).map((o) =>
      'multiplierPpm' in o
        ? { model: o.model, multiplier: o.multiplierPpm / PPM }
        : {
            model: o.model,
            inputPrice: o.inputPrice,
            outputPrice: o.outputPrice,
            cachedInputPrice: o.cachedInputPrice,
          },
    ),
    organizations: Number(counts.organizations),
    teams: Number(counts.teams),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export class PricingGroupService {
  constructor(private readonly deps: PricingGroupServiceDeps) {}

  async list(): Promise<PricingGroupView[]> {
    return (await this.deps.repo.list()).map((r) => toView(r, r));
  }

  async get(id: string): Promise<PricingGroupView> {
    const row = await this.deps.repo.get(id);
    if (!row) throw notFound('Pricing group');
    return toView(row);
  }

  async create(input: Required<Pick<PricingGroupInput, 'name'>> & PricingGroupInput): Promise<PricingGroupView> {
    const name = input.name.trim();
    await this.checkName(name);
    const now = this.deps.clock.now();
    const row: PricingGroupsTable = {
      id: this.deps.newId('prg'),
      name,
      multiplier_ppm: Math.round((input.multiplier ?? 1) * PPM),
      overrides: JSON.stringify(toStoredOverrides(input.overrides ?? [])),
      created_at: now,
      updated_at: now,
    };
    await this.deps.repo.insert(row);
    await this.deps.changed();
    return toView(row);
  }

  async update(id: string, patch: PricingGroupInput): Promise<PricingGroupView> {
    const row = await this.deps.repo.get(id);
    if (!row) throw notFound('Pricing group');
    const name = patch.name?.trim();
    if (name !== undefined && name !== row.name) await this.checkName(name);
    await this.deps.repo.update(id, {
      ...(name !== undefined ? { name } : {}),
      ...(patch.multiplier !== undefined ? { multiplier_ppm: Math.round(patch.multiplier * PPM) } : {}),
      ...(patch.overrides !== undefined ? { overrides: JSON.stringify(toStoredOverrides(patch.overrides)) } : {}),
      updated_at: this.deps.clock.now(),
    });
    await this.deps.changed();
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    const outcome = await this.deps.repo.deleteUnused(id);
    if (outcome === 'missing') throw notFound('Pricing group');
    if (outcome === 'in_use')
      throw new ApiError(
        'conflict',
        'Organizations or teams still follow this pricing group: assign them another first',
      );
    await this.deps.changed();
  }

  /** Assign an organization (id or slug) to a group, or to none. */
  async assignOrg(orgId: string, groupId: string | null): Promise<void> {
    if (groupId !== null && !(await this.deps.repo.get(groupId))) throw notFound('Pricing group');
    if (!(await this.deps.repo.assignOrg(orgId, groupId, this.deps.clock.now()))) throw notFound('Organization');
    await this.deps.changed();
  }

  /** Assign a team of an organization to a group, or to none (its organization's then). */
  async assignTeam(orgId: string, teamId: string, groupId: string | null): Promise<void> {
    if (groupId !== null && !(await this.deps.repo.get(groupId))) throw notFound('Pricing group');
    if (!(await this.deps.repo.assignTeam(orgId, teamId, groupId, this.deps.clock.now()))) throw notFound('Team');
    await this.deps.changed();
  }

  private async checkName(name: string): Promise<void> {
    if (name === '') throw new ApiError('validation_failed', 'body.name is required', { param: 'name' });
    if (await this.deps.repo.byName(name))
      throw new ApiError('conflict', `A pricing group named ${name} exists already`, { param: 'name' });
  }
}
