import { describe, expect, it } from 'vitest';
import { claimMatches, emailDomain, type MappingRule, planMemberships, readClaim } from './mapping.js';

const teams = new Map([
  ['team_eng', 'org_a'],
  ['team_ops', 'org_a'],
  ['team_b', 'org_b'],
]);

describe('claim mapping', () => {
  it('reads dotted claim paths and flat claim names', () => {
    const claims = { realm_access: { roles: ['admin'] }, 'https://x/groups': ['g'] };
    expect(readClaim(claims, 'realm_access.roles')).toEqual(['admin']);
    expect(readClaim(claims, 'https://x/groups')).toEqual(['g']);
    expect(readClaim(claims, 'realm_access.missing.deep')).toBeUndefined();
  });

  it('matches exact values, array elements and * (present and non-empty)', () => {
    expect(claimMatches(['eng', 'ops'], 'ops')).toBe(true);
    expect(claimMatches('eng', 'Eng')).toBe(false);
    expect(claimMatches(true, 'true')).toBe(true);
    expect(claimMatches('x', '*')).toBe(true);
    expect(claimMatches([], '*')).toBe(false);
    expect(claimMatches('', '*')).toBe(false);
    expect(claimMatches(undefined, '*')).toBe(false);
    expect(claimMatches({ a: 1 }, '[object Object]')).toBe(false);
  });

  it('org-scoped: the first rule naming a role wins, every matching team is joined, others are ignored', () => {
    const rules: MappingRule[] = [
      { claim: 'groups', value: 'nobody', role: 'owner' },
      { claim: 'groups', value: 'eng', team: 'team_eng' },
      { claim: 'groups', value: 'eng', role: 'admin' },
      { claim: 'groups', value: '*', role: 'viewer', team: 'team_ops', teamRole: 'admin' },
      // A team of another organization never joins (validated on save too).
      { claim: 'groups', value: 'eng', team: 'team_b' },
    ];
    const plan = planMemberships({ groups: ['eng'] }, rules, {
      connectionOrgId: 'org_a',
      defaultRole: 'developer',
      fallbackOrgId: 'org_default',
      teamOrgs: teams,
    });
    expect(plan.fallback).toBe(false);
    expect(plan.matched).toEqual([1, 2, 3, 4]);
    expect(plan.memberships).toEqual([
      {
        orgId: 'org_a',
        role: 'admin',
        roleFromRule: true,
        teams: [
          { teamId: 'team_eng', role: 'member' },
          { teamId: 'team_ops', role: 'admin' },
        ],
      },
    ]);
  });

  it('org-scoped without a match: the default role in the connection organization', () => {
    const plan = planMemberships({}, [{ claim: 'groups', value: 'eng', role: 'admin' }], {
      connectionOrgId: 'org_a',
      defaultRole: 'viewer',
      fallbackOrgId: 'org_default',
      teamOrgs: teams,
    });
    expect(plan.memberships).toEqual([{ orgId: 'org_a', role: 'viewer', roleFromRule: false, teams: [] }]);
    expect(plan.fallback).toBe(false);
  });

  it('instance-wide: rules place people in organizations (or by their team), else the fallback', () => {
    const rules: MappingRule[] = [
      { claim: 'dept', value: 'b', organization: 'org_b', role: 'billing_manager' },
      { claim: 'groups', value: 'eng', team: 'team_eng' },
    ];
    const context = { connectionOrgId: null, defaultRole: 'developer', fallbackOrgId: 'org_default', teamOrgs: teams };
    const plan = planMemberships({ dept: 'b', groups: ['eng'] }, rules, context);
    expect(plan.memberships).toEqual([
      { orgId: 'org_b', role: 'billing_manager', roleFromRule: true, teams: [] },
      { orgId: 'org_a', role: 'developer', roleFromRule: false, teams: [{ teamId: 'team_eng', role: 'member' }] },
    ]);
    const none = planMemberships({ dept: 'c' }, rules, context);
    expect(none.fallback).toBe(true);
    expect(none.memberships).toEqual([{ orgId: 'org_default', role: 'developer', roleFromRule: false, teams: [] }]);
  });

  it('takes the domain of an email', () => {
    expect(emailDomain('A@Acme.Test')).toBe('acme.test');
    expect(emailDomain('nope')).toBeNull();
    expect(emailDomain('x@')).toBeNull();
  });
});
