import {
  Bell,
  ChatDotRound,
  Coin,
  Connection,
  CreditCard,
  DataAnalysis,
  Document,
  Key,
  Lock,
  Memo,
  Message,
  Odometer,
  OfficeBuilding,
  PriceTag,
  School,
  Setting,
  Stamp,
  Tickets,
  Timer,
  TrendCharts,
  User,
  UserFilled,
  Wallet,
} from '@element-plus/icons-vue';
import type { Component } from 'vue';
import type { RouteComponent, RouteRecordRaw } from 'vue-router';

/**
 * Where a page lives: the sign-in pages (no layout, guests only), the developer portal, the current
 * organization's pages, the administration pages.
 */
export type Area = 'auth' | 'portal' | 'org' | 'admin';

/** The areas with a menu group, in menu order, and the i18n key of each group's title. */
export const MENU_AREAS = [
  { area: 'portal', title: 'nav.portal' },
  { area: 'org', title: 'nav.orgGroup' },
  { area: 'admin', title: 'nav.adminGroup' },
] as const;

// What the pages need (any one of; src/modules/access/permissions.ts): the permissions of the API they call.
const KEYS = ['keys.own', 'keys.team', 'keys.all'];
const LOGS = ['logs.own', 'logs.team', 'logs.all'];

/**
 * One console page. This table is the only list of pages: the router, the side menu and the header title
 * are all derived from it, so an admin page is its folder under views/admin/, one entry here and its locale
 * keys (nav.admin.<page> for the title).
 */
export interface ConsolePage {
  area: Area;
  /** The URL path. */
  path: string;
  /** i18n key of the title: the header, the document title and the menu label. */
  title: string;
  /** A literal `import()` so that bundlers and editors can follow it. */
  component: () => Promise<RouteComponent>;
  /** Listed in its area's menu group, with this icon; a page without an icon is reached by links only. */
  icon?: Component;
  /** Any one of these permissions opens the page and lists it in the menu (none: everyone signed in). */
  permission?: readonly string[];
  /** A sign-in page that signed-in users may open too (links from mail: verify, reset, invitation). */
  open?: boolean;
}

export const PAGES: readonly ConsolePage[] = [
  { area: 'auth', path: '/login', title: 'auth.signIn', component: () => import('@/views/auth/login/LoginPage.vue') },
  {
    area: 'auth',
    path: '/register',
    title: 'auth.register',
    component: () => import('@/views/auth/register/RegisterPage.vue'),
  },
  {
    area: 'auth',
    path: '/forgot-password',
    title: 'auth.forgotTitle',
    component: () => import('@/views/auth/forgot-password/ForgotPasswordPage.vue'),
  },
  {
    area: 'auth',
    path: '/reset-password',
    title: 'auth.resetTitle',
    open: true,
    component: () => import('@/views/auth/reset-password/ResetPasswordPage.vue'),
  },
  {
    area: 'auth',
    path: '/verify-email',
    title: 'auth.verifyTitle',
    open: true,
    component: () => import('@/views/auth/verify-email/VerifyEmailPage.vue'),
  },
  {
    area: 'auth',
    path: '/invite/:token',
    title: 'invitations.acceptTitle',
    open: true,
    component: () => import('@/views/auth/invite/InvitePage.vue'),
  },
  {
    area: 'portal',
    path: '/dashboard',
    title: 'nav.dashboard',
    icon: Odometer,
    component: () => import('@/views/portal/dashboard/DashboardPage.vue'),
  },
  {
    area: 'portal',
    path: '/keys',
    title: 'nav.keys',
    permission: KEYS,
    icon: Key,
    component: () => import('@/views/portal/keys/KeysPage.vue'),
  },
  {
    area: 'portal',
    path: '/playground',
    title: 'nav.playground',
    permission: KEYS,
    icon: ChatDotRound,
    component: () => import('@/views/portal/playground/PlaygroundPage.vue'),
  },
  {
    area: 'portal',
    path: '/logs',
    title: 'nav.logs',
    permission: LOGS,
    icon: Document,
    component: () => import('@/views/portal/logs/LogsPage.vue'),
  },
  {
    area: 'portal',
    path: '/billing',
    title: 'billing.nav',
    permission: ['billing.read'],
    icon: CreditCard,
    component: () => import('@/views/portal/billing/BillingPage.vue'),
  },
  {
    area: 'portal',
    path: '/invoices',
    title: 'statements.nav',
    permission: ['billing.read'],
    icon: Tickets,
    component: () => import('@/views/portal/invoices/InvoicesPage.vue'),
  },
  {
    area: 'portal',
    path: '/profile',
    title: 'nav.profile',
    component: () => import('@/views/portal/profile/ProfilePage.vue'),
  },
  // The current organization (issue #17).
  {
    area: 'org',
    path: '/org/settings',
    title: 'nav.org.settings',
    icon: OfficeBuilding,
    permission: ['org.read'],
    component: () => import('@/views/org/settings/OrgSettingsPage.vue'),
  },
  {
    area: 'org',
    path: '/org/members',
    title: 'nav.org.members',
    icon: User,
    permission: ['members.read'],
    component: () => import('@/views/org/members/MembersPage.vue'),
  },
  {
    area: 'org',
    path: '/org/invitations',
    title: 'nav.org.invitations',
    permission: ['members.read'],
    icon: Message,
    component: () => import('@/views/org/invitations/InvitationsPage.vue'),
  },
  {
    area: 'org',
    path: '/org/teams',
    title: 'nav.org.teams',
    icon: School,
    permission: ['teams.read'],
    component: () => import('@/views/org/teams/TeamsPage.vue'),
  },
  {
    area: 'org',
    path: '/org/roles',
    title: 'nav.org.roles',
    icon: Stamp,
    permission: ['org.read'],
    component: () => import('@/views/org/roles/RolesPage.vue'),
  },
  {
    // The current organization's single sign-on.
    area: 'org',
    path: '/org/sso',
    title: 'sso.orgTitle',
    icon: Key,
    permission: ['org.manage'],
    component: () => import('@/views/org/sso/OrgSsoPage.vue'),
  },
  {
    area: 'portal',
    path: '/security',
    title: 'nav.security',
    component: () => import('@/views/portal/security/SecurityPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/overview',
    title: 'nav.admin.overview',
    permission: ['usage.read'],
    icon: DataAnalysis,
    component: () => import('@/views/admin/overview/OverviewPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/analytics',
    title: 'nav.admin.analytics',
    permission: ['usage.read'],
    icon: TrendCharts,
    component: () => import('@/views/admin/analytics/AnalyticsPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/channels',
    title: 'nav.admin.channels',
    permission: ['channels.read'],
    icon: Connection,
    component: () => import('@/views/admin/channels/ChannelsPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/models',
    title: 'nav.admin.models',
    permission: ['models.manage'],
    icon: Coin,
    component: () => import('@/views/admin/models/ModelsPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/organizations',
    title: 'nav.admin.organizations',
    icon: OfficeBuilding,
    permission: ['platform.organizations'],
    component: () => import('@/views/admin/organizations/OrganizationsPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/billing',
    title: 'billing.adminNav',
    permission: ['platform.organizations'],
    icon: Wallet,
    component: () => import('@/views/admin/billing/BillingAdminPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/statements',
    title: 'statements.adminNav',
    permission: ['platform.organizations'],
    icon: TrendCharts,
    component: () => import('@/views/admin/statements/StatementsAdminPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/pricing-groups',
    title: 'statements.groupsNav',
    permission: ['platform.organizations'],
    icon: PriceTag,
    component: () => import('@/views/admin/pricing-groups/PricingGroupsPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/users',
    title: 'nav.admin.users',
    permission: ['platform.users'],
    icon: UserFilled,
    component: () => import('@/views/admin/users/UsersPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/keys',
    title: 'nav.admin.keys',
    permission: ['keys.read', 'keys.all'],
    icon: Key,
    component: () => import('@/views/admin/keys/AdminKeysPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/logs',
    title: 'nav.admin.logs',
    permission: ['logs.all'],
    icon: Document,
    component: () => import('@/views/admin/logs/AdminLogsPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/ip-rules',
    title: 'nav.admin.ip-rules',
    permission: ['ip_rules.manage'],
    icon: Lock,
    component: () => import('@/views/admin/ip-rules/IpRulesPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/audit',
    title: 'nav.admin.audit',
    permission: ['audit.read'],
    icon: Memo,
    component: () => import('@/views/admin/audit/AuditPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/alerts',
    title: 'nav.admin.alerts',
    permission: ['platform.alerts'],
    icon: Bell,
    component: () => import('@/views/admin/alerts/AlertsPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/jobs',
    title: 'nav.admin.jobs',
    permission: ['jobs.all'],
    icon: Timer,
    component: () => import('@/views/admin/jobs/JobsPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/sso',
    title: 'nav.admin.sso',
    icon: Stamp,
    permission: ['settings.manage'],
    component: () => import('@/views/admin/sso/SsoPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/settings',
    title: 'nav.admin.settings',
    permission: ['settings.manage'],
    icon: Setting,
    component: () => import('@/views/admin/settings/SettingsPage.vue'),
  },
];

/** A side-menu entry. */
export interface MenuItem {
  path: string;
  icon: Component;
  label: string;
}

/** Whether the caller may open a page that needs any one of these permissions. */
export type Can = (permission: readonly string[] | undefined) => boolean;

const everyone: Can = () => true;

/** The first menu page of an area the caller may open (where its breadcrumb leads). */
export function homeOf(area: Area, can: Can = everyone): string {
  return PAGES.find((page) => page.area === area && page.icon && can(page.permission))?.path ?? '/';
}

/** The menu group of an area: its pages that have an icon and that the caller may open, in table order. */
export function menuOf(area: Area, can: Can = everyone): MenuItem[] {
  return PAGES.flatMap((page) =>
    page.area === area && page.icon && can(page.permission)
      ? [{ path: page.path, icon: page.icon, label: page.title }]
      : [],
  );
}

function toRoute(page: ConsolePage, path: string): RouteRecordRaw {
  return {
    path,
    component: page.component,
    meta: {
      title: page.title,
      guest: (page.area === 'auth' && !page.open) || undefined,
      open: page.open,
      permission: page.permission,
      area: page.area === 'auth' ? undefined : page.area,
    },
  };
}

/** The router's records: sign-in pages at the top level, every other page inside the console layout. */
export const routes: RouteRecordRaw[] = [
  ...PAGES.filter((page) => page.area === 'auth').map((page) => toRoute(page, page.path)),
  {
    path: '/',
    component: () => import('@/layouts/ConsoleLayout.vue'),
    children: [
      { path: '', redirect: '/dashboard' },
      { path: 'admin', redirect: '/admin/overview' },
      { path: 'org', redirect: '/org/settings' },
      ...PAGES.filter((page) => page.area !== 'auth').map((page) => toRoute(page, page.path.slice(1))),
      {
        path: ':pathMatch(.*)*',
        component: () => import('@/views/not-found/NotFoundPage.vue'),
        meta: { title: 'common.notFound' },
      },
    ],
  },
];
