import { createRouter, createWebHistory } from 'vue-router';
import { useAuth } from '@/stores/auth';
import { routes } from './routes';

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title. */
    title?: string;
    /** Reachable without signing in (sign-in pages). */
    guest?: boolean;
    admin?: boolean;
    /** The console area the page belongs to (the header's breadcrumb). */
    area?: 'portal' | 'admin';
  }
}

/** Where a member enrols in two-factor authentication. */
export const SECURITY_PAGE = '/security';

export const router = createRouter({ history: createWebHistory(), routes });

router.beforeEach(async (to) => {
  const auth = useAuth();
  await auth.restore();
  if (to.meta.guest) return auth.user ? '/dashboard' : true;
  if (!auth.user) return { path: '/login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} };
  // An organization that requires 2FA: the member enrols before anything else.
  if (auth.twoFactorRequired && to.path !== SECURITY_PAGE) return { path: SECURITY_PAGE, query: { required: '1' } };
  if (to.meta.admin && !auth.isAdmin) return '/dashboard';
  return true;
});
