import { createI18n } from 'vue-i18n';

export type Locale = 'en' | 'zh-CN';
export const SUPPORTED: Locale[] = ['en', 'zh-CN'];
const KEY = 'aihub.locale';

type Tree = { [key: string]: string | Tree };

/**
 * Messages live in src/locales/<locale>/<area>.ts (one file per area of the console, each exporting a
 * default object); the file name becomes the top-level key, e.g. t('keys.create').
 */
function load(files: Record<string, { default: Tree }>): Tree {
  const out: Tree = {};
  for (const [path, mod] of Object.entries(files)) {
    const area = path.split('/').pop()?.replace(/\.ts$/, '') ?? '';
    out[area] = mod.default;
  }
  return out;
}

const messages = {
  en: load(import.meta.glob<{ default: Tree }>('../locales/en/*.ts', { eager: true })),
  'zh-CN': load(import.meta.glob<{ default: Tree }>('../locales/zh-CN/*.ts', { eager: true })),
};

function initialLocale(): Locale {
  const saved = localStorage.getItem(KEY);
  if (saved && (SUPPORTED as string[]).includes(saved)) return saved as Locale;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'en',
  messages,
  missingWarn: false,
  fallbackWarn: false,
});

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  localStorage.setItem(KEY, locale);
  document.documentElement.lang = locale;
}

document.documentElement.lang = i18n.global.locale.value;
