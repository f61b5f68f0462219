import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import {
  ApiRequestError,
  api,
  call,
  connectSession,
  type Schemas,
  selectedOrganization,
  selectOrganization,
} from '@/api/client';
import type { paths } from '@/api/schema';
import { allows } from '@/utils/access';

export type User = Schemas['User'];
type MeBody = paths['/api/me']['get']['responses'][200]['content']['application/json'];
/** Where the signed-in user stands: the current organization, their others, their teams there, their permissions. */
export type Access = Pick<MeBody, 'organization' | 'organizations' | 'teams' | 'permissions'>;

/** Set while this browser holds a session cookie (the cookie itself is HTTP-only and unreadable). */
const SESSION_HINT = 'aihub.session';

interface SessionBody {
  user: User;
  accessToken: string;
  expiresIn: number;
}

/** The second step of a sign-in with two-factor authentication: an app code or a recovery code. */
export type SecondFactor = { code: string } | { recoveryCode: string };

/** The signed-in user and their short-lived access token (kept in memory; the refresh cookie keeps the session). */
export const useAuth = defineStore('auth', () => {
  const user = ref<User | null>(null);
  const token = ref<string | null>(null);
  const restored = ref(false);
  /** The organization requires 2FA and this user has none: the console sends them to the Security page. */
  const twoFactorRequired = ref(false);
  let refreshing: Promise<string | null> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onExpired: () => void = () => undefined;
  let onTwoFactorRequired: () => void = () => undefined;

  const access = ref<Access | null>(null);
  /** Bumped when the organization changes: the console re-mounts the page so it loads that organization's data. */
  const organizationVersion = ref(0);

  /** A platform admin (the account's instance role), above every organization. */
  const isAdmin = computed(() => user.value?.role === 'admin');
  const permissions = computed<ReadonlySet<string>>(() => new Set(access.value?.permissions ?? []));

  /** Whether the caller holds any one of `need` in the current organization (no need: yes). */
  function can(need: readonly string[] | string | undefined): boolean {
    return allows(permissions.value, typeof need === 'string' ? [need] : need);
  }

  function accept(body: SessionBody): void {
    localStorage.setItem(SESSION_HINT, '1');
    user.value = body.user;
    token.value = body.accessToken;
    clearTimeout(timer);
    // Refresh a minute before the token expires, so requests never wait on it.
    timer = setTimeout(() => void refresh(), Math.max(10, body.expiresIn - 60) * 1000);
  }

  function clear(): void {
    localStorage.removeItem(SESSION_HINT);
    clearTimeout(timer);
    user.value = null;
    token.value = null;
    access.value = null;
    twoFactorRequired.value = false;
  }

  /** Ask once per sign-in whether the organization requires 2FA the user does not have yet. */
  async function checkTwoFactor(): Promise<void> {
    const { data } = await api.GET('/api/me/2fa');
    twoFactorRequired.value = Boolean(data?.required && !data.enabled);
  }

  /** Trade the refresh cookie for a new access token (one request, however many callers). */
  function refresh(): Promise<string | null> {
    refreshing ??= (async () => {
      try {
        const res = await fetch('/api/auth/refresh', { method: 'POST', credentials: 'same-origin' });
        if (!res.ok) {
          clear();
          return null;
        }
        accept((await res.json()) as SessionBody);
        return token.value;
      } catch {
        return null;
      } finally {
        refreshing = null;
      }
    })();
    return refreshing;
  }

  /** On page load: pick the session back up from the refresh cookie, if there is one. */
  async function restore(): Promise<void> {
    if (restored.value) return;
    // Only ask when this browser signed in before: a visitor without a session gets no failing request.
    if (localStorage.getItem(SESSION_HINT) && (await refresh())) await checkTwoFactor().catch(() => undefined);
    restored.value = true;
  }

  /** Sign in; for an account with 2FA the answer is the challenge for `loginSecondStep`, and no session yet. */
  async function login(email: string, password: string): Promise<{ challenge: string } | null> {
    const body = await call(api.POST('/api/auth/login', { body: { email, password } }));
    if ('twoFactorRequired' in body) return { challenge: body.challenge };
    accept(body as SessionBody);
    access.value = null;
    await checkTwoFactor().catch(() => undefined);
    return null;
  }

  async function loginSecondStep(challenge: string, factor: SecondFactor): Promise<void> {
    accept((await call(api.POST('/api/auth/login/2fa', { body: { challenge, ...factor } }))) as SessionBody);
    access.value = null;
  }

  async function register(email: string, password: string, name?: string): Promise<void> {
    const body = name ? { email, password, name } : { email, password };
    accept((await call(api.POST('/api/auth/register', { body }))) as SessionBody);
    access.value = null;
  }

  async function logout(): Promise<void> {
    try {
      await api.POST('/api/auth/logout');
    } finally {
      clear();
      // The next account to sign in on this browser starts in its own home organization.
      selectOrganization(null);
    }
  }

  /**
   * Fetch /api/me: the account and its access in the chosen organization. An organization that is gone, or
   * that this account may no longer enter (removed, disabled), is forgotten and the home organization used.
   */
  async function reloadMe(fallBack = true): Promise<void> {
    let me: MeBody;
    try {
      me = await call(api.GET('/api/me'));
    } catch (error) {
      const refused = error instanceof ApiRequestError && (error.status === 404 || error.status === 403);
      if (!fallBack || !refused || !selectedOrganization()) throw error;
      selectOrganization(null);
      me = await call(api.GET('/api/me'));
    }
    if ('id' in me) user.value = me;
    access.value = {
      organization: me.organization,
      organizations: me.organizations,
      teams: me.teams,
      permissions: me.permissions,
    };
  }

  /** Make sure the access of the signed-in user is known (the router asks before each page). */
  async function ensureAccess(): Promise<void> {
    if (user.value && !access.value) await reloadMe();
  }

  /** Work in another organization: later requests name it, and the current page reloads its data. */
  async function switchOrganization(id: string): Promise<void> {
    const before = selectedOrganization();
    selectOrganization(id);
    try {
      await reloadMe(false);
    } catch (error) {
      selectOrganization(before);
      throw error;
    }
    organizationVersion.value++;
  }

  connectSession({
    token: () => token.value,
    refresh,
    expired: () => {
      clear();
      onExpired();
    },
    twoFactorRequired: () => {
      twoFactorRequired.value = true;
      onTwoFactorRequired();
    },
  });

  return {
    user,
    token,
    restored,
    access,
    organizationVersion,
    isAdmin,
    twoFactorRequired,
    checkTwoFactor,
    permissions,
    can,
    ensureAccess,
    switchOrganization,
    login,
    loginSecondStep,
    register,
    logout,
    refresh,
    restore,
    reloadMe,
    /** Take a session another answer carried (an accepted invitation that created the account). */
    acceptSession: (body: SessionBody) => {
      accept(body);
      access.value = null;
    },
    onSessionExpired: (fn: () => void) => {
      onExpired = fn;
    },
    onTwoFactorRequired: (fn: () => void) => {
      onTwoFactorRequired = fn;
    },
  };
});
