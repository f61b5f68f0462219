import {
  ChatDotRound,
  Coin,
  Connection,
  DataAnalysis,
  Document,
  Key,
  Lock,
  Memo,
  Message,
  Odometer,
  Setting,
  UserFilled,
} from '@element-plus/icons-vue';
import type { Component } from 'vue';
import type { RouteComponent, RouteRecordRaw } from 'vue-router';

/** Where a page lives: the sign-in pages (no layout, guests only), the developer portal, the admin console. */
export type Area = 'auth' | 'portal' | 'admin';

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
  /** A sign-in page that signed-in users may open too (links from mail: verify, reset, invitation). */
  open?: boolean;
  /** Listed in the menu only for those who hold this permission in the current organization. */
  permission?: string;
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
    icon: Key,
    component: () => import('@/views/portal/keys/KeysPage.vue'),
  },
  {
    area: 'portal',
    path: '/playground',
    title: 'nav.playground',
    icon: ChatDotRound,
    component: () => import('@/views/portal/playground/PlaygroundPage.vue'),
  },
  {
    area: 'portal',
    path: '/logs',
    title: 'nav.logs',
    icon: Document,
    component: () => import('@/views/portal/logs/LogsPage.vue'),
  },
  {
    area: 'portal',
    path: '/org/invitations',
    title: 'nav.invitations',
    icon: Message,
    permission: 'members.read',
    component: () => import('@/views/portal/invitations/InvitationsPage.vue'),
  },
  {
    area: 'portal',
    path: '/profile',
    title: 'nav.profile',
    component: () => import('@/views/portal/profile/ProfilePage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/overview',
    title: 'nav.admin.overview',
    icon: DataAnalysis,
    component: () => import('@/views/admin/overview/OverviewPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/channels',
    title: 'nav.admin.channels',
    icon: Connection,
    component: () => import('@/views/admin/channels/ChannelsPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/models',
    title: 'nav.admin.models',
    icon: Coin,
    component: () => import('@/views/admin/models/ModelsPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/users',
    title: 'nav.admin.users',
    icon: UserFilled,
    component: () => import('@/views/admin/users/UsersPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/keys',
    title: 'nav.admin.keys',
    icon: Key,
    component: () => import('@/views/admin/keys/AdminKeysPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/logs',
    title: 'nav.admin.logs',
    icon: Document,
    component: () => import('@/views/admin/logs/AdminLogsPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/ip-rules',
    title: 'nav.admin.ip-rules',
    icon: Lock,
    component: () => import('@/views/admin/ip-rules/IpRulesPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/audit',
    title: 'nav.admin.audit',
    icon: Memo,
    component: () => import('@/views/admin/audit/AuditPage.vue'),
  },
  {
    area: 'admin',
    path: '/admin/settings',
    title: 'nav.admin.settings',
    icon: Setting,
    component: () => import('@/views/admin/settings/SettingsPage.vue'),
  },
];

/** A side-menu entry. */
export interface MenuItem {
  path: string;
  icon: Component;
  label: string;
  permission?: string;
}

/** The first menu page of an area (where its breadcrumb leads). */
export function homeOf(area: Area): string {
  return PAGES.find((page) => page.area === area && page.icon)?.path ?? '/';
}

/** The menu group of an area: its pages that have an icon, in table order. */
export function menuOf(area: Area): MenuItem[] {
  return PAGES.flatMap((page) =>
    page.area === area && page.icon
      ? [{ path: page.path, icon: page.icon, label: page.title, permission: page.permission }]
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
      admin: page.area === 'admin' || undefined,
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
      ...PAGES.filter((page) => page.area !== 'auth').map((page) => toRoute(page, page.path.slice(1))),
      {
        path: ':pathMatch(.*)*',
        component: () => import('@/views/not-found/NotFoundPage.vue'),
        meta: { title: 'common.notFound' },
      },
    ],
  },
];
