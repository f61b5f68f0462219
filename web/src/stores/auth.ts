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

/** The signed-in user and their short-lived access token (kept in memory; the refresh cookie keeps the session). */
export const useAuth = defineStore('auth', () => {
  const user = ref<User | null>(null);
  const token = ref<string | null>(null);
  const restored = ref(false);
  let refreshing: Promise<string | null> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onExpired: () => void = () => undefined;

  const isAdmin = computed(() => user.value?.role === 'admin');
  /** What the user may do in the current organization (from GET /api/me; empty until loaded). */
  const permissions = ref<string[]>([]);

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
    permissions.value = [];
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
    if (localStorage.getItem(SESSION_HINT)) await refresh();
    restored.value = true;
  }

  async function login(email: string, password: string): Promise<void> {
    accept((await call(api.POST('/api/auth/login', { body: { email, password } }))) as SessionBody);
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
    permissions.value = me.permissions;
  }

  connectSession({
    token: () => token.value,
    refresh,
    expired: () => {
      clear();
      onExpired();
    },
  });

  return {
    user,
    token,
    restored,
    isAdmin,
    login,
    register,
    logout,
    refresh,
    restore,
    reloadMe,
    permissions,
    /** Take a session another answer carried (an accepted invitation that created the account). */
    acceptSession: accept,
    onSessionExpired: (fn: () => void) => {
      onExpired = fn;
    },
  };
});
