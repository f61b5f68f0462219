import { createRouter, createWebHistory } from 'vue-router';
import { useAuth } from '@/stores/auth';
import { routes } from './routes';

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title. */
    title?: string;
    /** Reachable without signing in (sign-in pages). */
    guest?: boolean;
    /** Reachable signed in or not (links from mail). */
    open?: boolean;
    admin?: boolean;
    /** The console area the page belongs to (the header's breadcrumb). */
    area?: 'portal' | 'admin';
  }
}

export const router = createRouter({ history: createWebHistory(), routes });

router.beforeEach(async (to) => {
  const auth = useAuth();
  await auth.restore();
  if (to.meta.open) return true;
  if (to.meta.guest) return auth.user ? '/dashboard' : true;
  if (!auth.user) return { path: '/login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} };
  if (to.meta.admin && !auth.isAdmin) return '/dashboard';
  return true;
});
