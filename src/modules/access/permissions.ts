/**
 * The permission catalog and the predefined roles. Every /api route declares the permission it needs
 * (`config: { permission }`); src/modules/access/hook.ts checks it against the caller's role in the
 * organization the request is about.
 *
 * Two kinds of permission:
 * - organization permissions: granted by a role inside one organization, they reach only that organization's
 *   data (a custom role may hold any of them);
 * - platform permissions: the instance itself (channels, models and prices, settings, IP rules, every
 *   organization). Only platform admins (users.role = 'admin') and the master key hold them; no organization
 *   role can, so no organization's admin can touch what every organization shares.
 *
 * Reach: `keys.own` / `keys.team` / `keys.all` (and the same for logs) say whose data a route shows: the
 * caller's own, that of the teams the caller belongs to, or the whole organization's.
 */
export const ORG_PERMISSIONS = {
  'org.read': 'See the organization and its settings',
  'org.manage': 'Change the organization: name, 2FA requirement, SSO (its plan is the platform admins’)',
  'members.read': 'See the members of the organization',
  'members.manage': 'Invite, remove and change the role of members',
  'roles.manage': 'Create and edit the organization’s roles',
  'teams.read': 'See the teams and their members',
  'teams.manage': 'Create, change and delete teams and their members',
  'keys.own': 'Create and manage your own API keys',
  'keys.team': 'Create and manage the API keys of your teams (service keys)',
  'keys.read': 'See every API key of the organization',
  'keys.all': 'Manage every API key of the organization',
  'logs.own': 'See the request logs and usage of your own keys',
  'logs.team': 'See the request logs and usage of your teams',
  'logs.all': 'See every request log of the organization',
  'logs.bodies': 'See stored request and response bodies (with a logs permission)',
  'usage.read': 'See the organization’s usage and analytics',
  'limits.read': 'See budgets and rate limits',
  'limits.manage': 'Set budgets and rate limits of users, teams and the organization',
  'audit.read': 'Read the audit log of the organization',
  'billing.read': 'See balances, invoices and payments',
  'billing.manage': 'Top up, redeem codes, manage subscriptions and payment details',
  'jobs.read': 'See jobs and batches',
  'jobs.manage': 'Start and cancel jobs and batches',
  'jobs.all': 'See, cancel, retry and delete every job of the organization',
} as const;

export const PLATFORM_PERMISSIONS = {
  'platform.organizations': 'Create, list, change and delete every organization',
  'platform.users': 'Manage every user account of the instance',
  'channels.read': 'See upstream channels (never their keys)',
  'channels.manage': 'Create, change and test upstream channels',
  'models.manage': 'Manage models, routes and prices',
  'settings.manage': 'Change instance settings, TLS and mail',
  'ip_rules.manage': 'Manage the instance’s IP allow and deny rules',
  'platform.alerts': 'Manage alert rules and destinations, and see the alert history',
} as const;

export type OrgPermission = keyof typeof ORG_PERMISSIONS;
export type PlatformPermission = keyof typeof PLATFORM_PERMISSIONS;
export type Permission = OrgPermission | PlatformPermission;

export const ALL_ORG_PERMISSIONS = Object.keys(ORG_PERMISSIONS) as OrgPermission[];
export const ALL_PERMISSIONS = [...ALL_ORG_PERMISSIONS, ...(Object.keys(PLATFORM_PERMISSIONS) as PlatformPermission[])];

export function isOrgPermission(value: string): value is OrgPermission {
  return Object.hasOwn(ORG_PERMISSIONS, value);
}

export function isPermission(value: string): value is Permission {
  return isOrgPermission(value) || Object.hasOwn(PLATFORM_PERMISSIONS, value);
}

/**
 * What a route needs: `public` (no sign-in), `signed_in` (any member of the organization the request is
 * about), a permission, or several (any one of them suffices; the route's service narrows by reach).
 */
export type RoutePermission = 'public' | 'signed_in' | Permission | readonly Permission[];

export interface BuiltinRole {
  key: string;
  name: string;
  description: string;
  permissions: readonly OrgPermission[];
}

const without = (...excluded: OrgPermission[]): OrgPermission[] =>
  ALL_ORG_PERMISSIONS.filter((p) => !excluded.includes(p));

/**
 * Roles every organization starts with. An organization may edit their permissions (stored as an override
 * in `roles`) and add its own; `owner` stays all-powerful so an organization can never lock itself out.
 * The platform admin is not a role here: it is the account's `role = 'admin'`, above every organization.
 */
export const BUILTIN_ROLES: readonly BuiltinRole[] = [
  {
    key: 'owner',
    name: 'Organization owner',
    description: 'Everything in the organization, including billing and roles',
    permissions: ALL_ORG_PERMISSIONS,
  },
  {
    key: 'admin',
    name: 'Organization admin',
    description: 'Everything in the organization except billing changes and role editing',
    permissions: without('billing.manage', 'roles.manage'),
  },
  {
    key: 'billing_manager',
    name: 'Billing manager',
    description: 'Balances, invoices, payments and usage',
    permissions: ['org.read', 'members.read', 'teams.read', 'usage.read', 'billing.read', 'billing.manage'],
  },
  {
    key: 'team_admin',
    name: 'Team admin',
    description: 'Manages the members, service keys and logs of the teams they belong to',
    permissions: [
      'org.read',
      'members.read',
      'teams.read',
      'keys.own',
      'keys.team',
      'logs.own',
      'logs.team',
      'limits.read',
      'jobs.read',
      'jobs.manage',
    ],
  },
  {
    key: 'developer',
    name: 'Developer',
    description: 'Own API keys and own request logs',
    permissions: ['org.read', 'keys.own', 'logs.own', 'jobs.read', 'jobs.manage'],
  },
  {
    key: 'viewer',
    name: 'Viewer',
    description: 'Reads everything except request bodies and the audit log; changes nothing',
    permissions: [
      'org.read',
      'members.read',
      'teams.read',
      'keys.read',
      'logs.own',
      'logs.team',
      'logs.all',
      'usage.read',
      'limits.read',
      'billing.read',
      'jobs.read',
    ],
  },
  {
    key: 'auditor',
    name: 'Auditor',
    description: 'Reads the audit log and request logs, without bodies',
    permissions: ['org.read', 'members.read', 'teams.read', 'logs.own', 'logs.team', 'logs.all', 'audit.read'],
  },
];

export const BUILTIN_ROLE_KEYS = BUILTIN_ROLES.map((r) => r.key);

/** A role of a team membership: team admins manage their team, members use its service keys' reach. */
export type TeamRole = 'admin' | 'member';
