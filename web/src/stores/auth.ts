import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { api, call, connectSession, type Schemas } from '@/api/client';

export type User = Schemas['User'];

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

  const isAdmin = computed(() => user.value?.role === 'admin');

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
    await checkTwoFactor().catch(() => undefined);
    return null;
  }

  async function loginSecondStep(challenge: string, factor: SecondFactor): Promise<void> {
    accept((await call(api.POST('/api/auth/login/2fa', { body: { challenge, ...factor } }))) as SessionBody);
  }

  async function register(email: string, password: string, name?: string): Promise<void> {
    const body = name ? { email, password, name } : { email, password };
    accept((await call(api.POST('/api/auth/register', { body }))) as SessionBody);
  }

  async function logout(): Promise<void> {
    try {
      await api.POST('/api/auth/logout');
    } finally {
      clear();
    }
  }

  async function reloadMe(): Promise<void> {
    const me = await call(api.GET('/api/me'));
    if ('id' in me) user.value = me;
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
    isAdmin,
    twoFactorRequired,
    checkTwoFactor,
    login,
    loginSecondStep,
    register,
    logout,
    refresh,
    restore,
    reloadMe,
    onSessionExpired: (fn: () => void) => {
      onExpired = fn;
    },
    onTwoFactorRequired: (fn: () => void) => {
      onTwoFactorRequired = fn;
    },
  };
});
