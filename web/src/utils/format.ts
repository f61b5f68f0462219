import { i18n } from '@/i18n';

const locale = () => i18n.global.locale.value;

/** micro-USD → "$1.23" (more digits for small amounts). */
export function money(micros: number | null | undefined): string {
  if (micros === null || micros === undefined) return '—';
  const usd = micros / 1_000_000;
  const digits = usd !== 0 && Math.abs(usd) < 0.01 ? 6 : usd < 100 ? 4 : 2;
  return `$${usd.toLocaleString(locale(), { minimumFractionDigits: 2, maximumFractionDigits: digits })}`;
}

/** USD (as typed in a form) → micro-USD. */
export function toMicros(usd: number): number {
  return Math.round(usd * 1_000_000);
}

const numberFormats = new Map<string, Intl.NumberFormat>();

/**
 * The one way the console writes a count (requests, tokens, limits, axis labels): grouped digits up to
 * 9,999, then compact ("12.3K", "1.2万"), in the current locale. Every page uses it, so the same number
 * reads the same everywhere and still fits narrow cells.
 */
export function num(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  const compact = Math.abs(n) >= 10_000;
  const key = `${locale()}|${compact}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(
      locale(),
      compact ? { notation: 'compact', maximumFractionDigits: 1 } : { maximumFractionDigits: 2 },
    );
    numberFormats.set(key, format);
  }
  return format.format(n);
}

/** A message with a count in it, in the locale's plural form ("1 error", "2 errors"); `{n}` is num(n). */
export function counted(key: string, n: number, named: Record<string, unknown> = {}): string {
  return i18n.global.t(key, { ...named, n: num(n) }, n);
}

export function dateTime(ms: number | null | undefined): string {
  if (!ms) return '—';
  return new Date(ms).toLocaleString(locale(), { hour12: false });
}

export function date(ms: number | null | undefined): string {
  if (!ms) return '—';
  return new Date(ms).toLocaleDateString(locale());
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function percent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined) return '—';
  return `${(ratio * 100).toFixed(ratio >= 0.995 || ratio === 0 ? 0 : 1)}%`;
}

/** Copy text; false when the browser refuses (no clipboard permission, plain HTTP). */
export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement('textarea');
    area.value = text;
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand('copy');
    area.remove();
    return ok;
  }
}
