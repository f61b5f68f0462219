import { createRouter, createWebHistory } from 'vue-router';
import { useAuth } from '@/stores/auth';
import type { Area } from './routes';
import { routes } from './routes';

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title. */
    title?: string;
    /** Reachable without signing in (sign-in pages). */
    guest?: boolean;
    /** Reachable signed in or not (links from mail). */
    open?: boolean;
    /** Any one of these permissions opens the page (none: everyone signed in). */
    permission?: readonly string[];
    /** The console area the page belongs to (the header's breadcrumb). */
    area?: Exclude<Area, 'auth'>;
  }
}

/** Where a member enrols in two-factor authentication. */
export const SECURITY_PAGE = '/security';

export const router = createRouter({ history: createWebHistory(), routes });

router.beforeEach(async (to) => {
  const auth = useAuth();
  await auth.restore();
  if (to.meta.open) return true;
  if (to.meta.guest) return auth.user ? '/dashboard' : true;
  if (!auth.user) return { path: '/login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} };
  // An organization that requires 2FA: the member enrols before anything else.
  if (auth.twoFactorRequired && to.path !== SECURITY_PAGE) return { path: SECURITY_PAGE, query: { required: '1' } };
  // What the user may do here decides the menus and the pages; without it (no organization) only the
  // pages that need no permission open.
  await auth.ensureAccess().catch(() => undefined);
  if (!auth.can(to.meta.permission)) return '/dashboard';
  return true;
});
