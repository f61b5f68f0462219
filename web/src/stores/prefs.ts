import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import { i18n, type Locale, SUPPORTED, setLocale } from '@/i18n';

const THEME_KEY = 'aihub.theme';

/** Interface preferences remembered in this browser: language and light/dark theme. */
export const usePrefs = defineStore('prefs', () => {
  const locale = ref<Locale>(i18n.global.locale.value as Locale);
  const stored = localStorage.getItem(THEME_KEY);
  const dark = ref(
    stored ? stored === 'dark' : (globalThis.matchMedia?.('(prefers-color-scheme: dark)').matches ?? false),
  );

  watch(
    dark,
    (on) => {
      document.documentElement.classList.toggle('dark', on);
      localStorage.setItem(THEME_KEY, on ? 'dark' : 'light');
    },
    { immediate: true },
  );

  function changeLocale(next: Locale): void {
    if (!SUPPORTED.includes(next)) return;
    locale.value = next;
    setLocale(next);
  }

  return { locale, dark, changeLocale };
});
