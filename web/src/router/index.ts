import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import { useAuth } from '@/stores/auth';

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title. */
    title?: string;
    /** Reachable without signing in (sign-in pages). */
    guest?: boolean;
    admin?: boolean;
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/login', component: () => import('@/pages/auth/LoginPage.vue'), meta: { guest: true, title: 'auth.signIn' } },
  {
    path: '/register',
    component: () => import('@/pages/auth/RegisterPage.vue'),
    meta: { guest: true, title: 'auth.register' },
  },
  {
    path: '/',
    component: () => import('@/layouts/ConsoleLayout.vue'),
    children: [
      { path: '', redirect: '/dashboard' },
      { path: 'dashboard', component: () => import('@/pages/portal/DashboardPage.vue'), meta: { title: 'nav.dashboard' } },
      { path: 'keys', component: () => import('@/pages/portal/KeysPage.vue'), meta: { title: 'nav.keys' } },
      { path: 'playground', component: () => import('@/pages/portal/PlaygroundPage.vue'), meta: { title: 'nav.playground' } },
      { path: 'logs', component: () => import('@/pages/portal/LogsPage.vue'), meta: { title: 'nav.logs' } },
      { path: 'profile', component: () => import('@/pages/portal/ProfilePage.vue'), meta: { title: 'nav.profile' } },
      { path: 'admin', redirect: '/admin/overview' },
      ...(
        [
          ['overview', 'OverviewPage'],
          ['channels', 'ChannelsPage'],
          ['models', 'ModelsPage'],
          ['users', 'UsersPage'],
          ['keys', 'AdminKeysPage'],
          ['logs', 'AdminLogsPage'],
          ['ip-rules', 'IpRulesPage'],
          ['audit', 'AuditPage'],
          ['settings', 'SettingsPage'],
        ] as const
      ).map(([path, page]) => ({
        path: `admin/${path}`,
        component: () => import(`@/pages/admin/${page}.vue`),
        meta: { admin: true, title: `nav.admin.${path}` },
      })),
      { path: ':pathMatch(.*)*', component: () => import('@/pages/NotFoundPage.vue'), meta: { title: 'common.notFound' } },
    ],
  },
];

export const router = createRouter({ history: createWebHistory(), routes });

router.beforeEach(async (to) => {
  const auth = useAuth();
  await auth.restore();
  if (to.meta.guest) return auth.user ? '/dashboard' : true;
  if (!auth.user) return { path: '/login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} };
  if (to.meta.admin && !auth.isAdmin) return '/dashboard';
  return true;
});
