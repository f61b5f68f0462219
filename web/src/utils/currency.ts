import { i18n } from '@/i18n';

const formats = new Map<string, Intl.NumberFormat>();

/** Micro-units of `currency` (the instance's `currency` setting) → "$1.23", "€1.23", "¥1.23" in the current locale. */
export function currencyAmount(micros: number | null | undefined, currency = 'USD'): string {
  if (micros === null || micros === undefined) return '—';
  const units = micros / 1_000_000;
  const small = units !== 0 && Math.abs(units) < 0.01;
  const key = `${i18n.global.locale.value}|${currency}|${small}`;
  let format = formats.get(key);
  if (!format) {
    try {
      format = new Intl.NumberFormat(i18n.global.locale.value, {
        style: 'currency',
        currency,
        minimumFractionDigits: 2,
        maximumFractionDigits: small ? 6 : 4,
      });
    } catch {
      // An unknown currency code: the plain number with the code.
      format = new Intl.NumberFormat(i18n.global.locale.value, { maximumFractionDigits: 6 });
    }
    formats.set(key, format);
  }
  const text = format.format(units);
  return format.resolvedOptions().style === 'currency' ? text : `${text} ${currency}`;
}

/** Units as typed in a form → micro-units. */
export function unitsToMicros(units: number): number {
  return Math.round(units * 1_000_000);
}
