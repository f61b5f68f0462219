import type { Static } from '@sinclair/typebox';
import type { Clock } from '../../core/clock.js';
import { ApiError, notFound } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import type { SecretBox } from '../../core/secrets.js';
import type { SsoConnectionsTable } from '../../infra/db/schema.js';
import { BUILTIN_ROLE_KEYS } from '../access/permissions.js';
import type { Principal } from '../auth/principal.js';
import type { OrganizationsService } from '../organizations/service.js';
import type { MappingRule } from './mapping.js';
import { issuerProblem, type OidcClients } from './oidc.js';
import type { SsoRepository } from './repository.js';
import type { SsoConnectionCreateBody, SsoConnectionPatchBody } from './schema.js';

export type ConnectionInput = Static<typeof SsoConnectionCreateBody>;
export type ConnectionPatch = Static<typeof SsoConnectionPatchBody>;

export const DEFAULT_SCOPES = 'openid email profile';

/** A connection as the API shows it: never the client secret. */
export interface ConnectionResponse {
  id: string;
  orgId: string | null;
  name: string;
  issuer: string;
  clientId: string;
  clientSecretSet: boolean;
  scopes: string;
  emailDomains: string[];
  mappings: MappingRule[];
  defaultRole: string;
  jit: boolean;
  ssoOnly: boolean;
  enabled: boolean;
  redirectUri: string;
  createdAt: number;
  updatedAt: number;
}

export function parseJsonArray<T>(json: string): T[] {
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? (value as T[]) : [];
  } catch {
    return [];
  }
}

export function toConnectionResponse(row: SsoConnectionsTable, redirectUri: string): ConnectionResponse {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    issuer: row.issuer,
    clientId: row.client_id,
    clientSecretSet: row.client_secret !== null,
    scopes: row.scopes,
    emailDomains: parseJsonArray<string>(row.email_domains),
    mappings: parseJsonArray<MappingRule>(row.mappings),
    defaultRole: row.default_role,
    jit: row.jit === 1,
    ssoOnly: row.sso_only === 1,
    enabled: row.enabled === 1,
    redirectUri,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Where a connection lives: one organization, or instance-wide (null). */
export type ConnectionScope = { orgId: string | null };

/**
 * SSO connections of an organization (org.manage) or of the instance (settings.manage). Every method takes
 * the scope it works in; a connection of another scope is "not found".
 */
export class SsoConnectionsService {
  constructor(
    private readonly repo: SsoRepository,
    private readonly organizations: OrganizationsService,
    private readonly clients: OidcClients,
    private readonly secrets: SecretBox,
    private readonly clock: Clock,
    private readonly newId: IdGenerator,
  ) {}

  list(scope: ConnectionScope): Promise<SsoConnectionsTable[]> {
    return this.repo.listConnections(scope.orgId);
  }

  /** A connection of this scope, or 404. */
  async get(scope: ConnectionScope, id: string): Promise<SsoConnectionsTable> {
    const row = await this.repo.findConnection(id);
    if (!row || row.org_id !== scope.orgId) throw notFound('SSO connection');
    return row;
  }

  async create(scope: ConnectionScope, input: ConnectionInput, principal: Principal): Promise<SsoConnectionsTable> {
    const issuer = normalizeIssuer(input.issuer);
    const mappings = input.mappings ?? [];
    const defaultRole = input.defaultRole ?? 'developer';
    await this.checkMappings(scope, mappings, defaultRole, principal);
    const now = this.clock.now();
    const row: SsoConnectionsTable = {
      id: this.newId('sso'),
      org_id: scope.orgId,
      name: input.name.trim(),
      issuer,
      client_id: input.clientId,
      client_secret: input.clientSecret ? this.secrets.encrypt(input.clientSecret) : null,
      scopes: normalizeScopes(input.scopes ?? DEFAULT_SCOPES),
      email_domains: JSON.stringify(normalizeDomains(input.emailDomains ?? [])),
      mappings: JSON.stringify(mappings),
      default_role: defaultRole,
      jit: input.jit === false ? 0 : 1,
      sso_only: input.ssoOnly ? 1 : 0,
      enabled: input.enabled === false ? 0 : 1,
      created_by: principal.kind === 'user' ? principal.userId : null,
      created_at: now,
      updated_at: now,
    };
    await this.repo.insertConnection(row);
    return row;
  }

  async update(
    scope: ConnectionScope,
    id: string,
    patch: ConnectionPatch,
    principal: Principal,
  ): Promise<SsoConnectionsTable> {
    const current = await this.get(scope, id);
    const set: Partial<SsoConnectionsTable> = {
      updated_at: Math.max(this.clock.now(), Number(current.updated_at) + 1),
    };
    if (patch.name !== undefined) set.name = patch.name.trim();
    if (patch.issuer !== undefined) set.issuer = normalizeIssuer(patch.issuer);
    if (patch.clientId !== undefined) set.client_id = patch.clientId;
    if (patch.clientSecret !== undefined)
      set.client_secret = patch.clientSecret === null ? null : this.secrets.encrypt(patch.clientSecret);
    if (patch.scopes !== undefined) set.scopes = normalizeScopes(patch.scopes);
    if (patch.emailDomains !== undefined) set.email_domains = JSON.stringify(normalizeDomains(patch.emailDomains));
    if (patch.mappings !== undefined || patch.defaultRole !== undefined) {
      const mappings = patch.mappings ?? parseJsonArray<MappingRule>(current.mappings);
      const defaultRole = patch.defaultRole ?? current.default_role;
      await this.checkMappings(scope, mappings, defaultRole, principal);
      set.mappings = JSON.stringify(mappings);
      set.default_role = defaultRole;
    }
    if (patch.jit !== undefined) set.jit = patch.jit ? 1 : 0;
    if (patch.ssoOnly !== undefined) set.sso_only = patch.ssoOnly ? 1 : 0;
    if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
    await this.repo.updateConnection(id, set);
    this.clients.forget(id);
    return { ...current, ...set };
  }

  async delete(scope: ConnectionScope, id: string): Promise<SsoConnectionsTable> {
    const current = await this.get(scope, id);
    await this.repo.deleteConnection(id);
    this.clients.forget(id);
    return current;
  }

  /**
   * The mapping may only give what the caller may grant (no escalation through one's own IdP), and only name
   * roles and teams that exist where they point.
   */
  private async checkMappings(
    scope: ConnectionScope,
    rules: readonly MappingRule[],
    defaultRole: string,
    principal: Principal,
  ): Promise<void> {
    const teams = await this.repo.teams(rules.flatMap((r) => (r.team ? [r.team] : [])));
    if (scope.orgId !== null) {
      await this.organizations.assertMayGrant(scope.orgId, defaultRole, principal).catch(rename('defaultRole'));
    } else if (!BUILTIN_ROLE_KEYS.includes(defaultRole)) {
      throw new ApiError(
        'validation_failed',
        'The default role of an instance-wide connection must be a built-in role (custom roles belong to one organization)',
        { param: 'defaultRole' },
      );
    }
    for (const [index, rule] of rules.entries()) {
      const param = `mappings/${index}`;
      if (!rule.role && !rule.team && !rule.organization)
        throw new ApiError('validation_failed', 'A mapping rule must give a role, a team or an organization', {
          param,
        });
      if (rule.teamRole && !rule.team)
        throw new ApiError('validation_failed', 'teamRole needs a team', { param: `${param}/teamRole` });
      let orgId = scope.orgId;
      if (scope.orgId !== null) {
        if (rule.organization !== undefined)
          throw new ApiError(
            'validation_failed',
            "An organization's connection maps into that organization only: remove organization",
            { param: `${param}/organization` },
          );
      } else if (rule.organization !== undefined) {
        if (!(await this.repo.orgExists(rule.organization)))
          throw new ApiError('validation_failed', `There is no organization ${rule.organization}`, {
            param: `${param}/organization`,
          });
        orgId = rule.organization;
      }
      if (rule.team) {
        const team = teams.get(rule.team);
        if (!team || (orgId !== null && team.orgId !== orgId))
          throw new ApiError('validation_failed', `There is no team ${rule.team} in the organization`, {
            param: `${param}/team`,
          });
        orgId = team.orgId;
      }
      if (rule.role) {
        if (orgId === null)
          throw new ApiError(
            'validation_failed',
            'A role needs an organization (or a team) on an instance-wide connection',
            {
              param: `${param}/role`,
            },
          );
        await this.organizations.assertMayGrant(orgId, rule.role, principal).catch(rename(`${param}/role`));
      }
    }
  }
}

/** Re-throw an error about `role` as one about the field that holds it. */
function rename(param: string): (error: unknown) => never {
  return (error) => {
    if (error instanceof ApiError) throw new ApiError(error.code, error.message, { param });
    throw error;
  };
}

function normalizeIssuer(issuer: string): string {
  // Kept as given (a trailing slash included): discovery requires the IdP's issuer to match it exactly.
  const trimmed = issuer.trim();
  const problem = issuerProblem(trimmed);
  if (problem) throw new ApiError('validation_failed', `The issuer URL ${problem}`, { param: 'issuer' });
  return trimmed;
}

function normalizeScopes(scopes: string): string {
  const list = [...new Set(scopes.split(/\s+/).filter(Boolean))];
  if (!list.includes('openid'))
    throw new ApiError('validation_failed', 'The scopes must include openid', { param: 'scopes' });
  return list.join(' ');
}

function normalizeDomains(domains: string[]): string[] {
  return [...new Set(domains.map((d) => d.trim().toLowerCase()))];
}
