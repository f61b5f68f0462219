/**
 * Stripe amounts are integers in the currency's smallest unit (cents for USD, yen for JPY, fils for KWD); AI
 * Hub's are micro-units (1 = 1,000,000). See https://docs.stripe.com/currencies#zero-decimal and
 * #three-decimal for Stripe's lists.
 */

const ZERO_DECIMAL = new Set([
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'JPY',
  'KMF',
  'KRW',
  'MGA',
  'PYG',
  'RWF',
  'UGX',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
]);
const THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

/** Micro-units in one of Stripe's smallest units of `currency` (10,000 for USD: one cent). */
export function microsPerMinorUnit(currency: string): number {
  const code = currency.toUpperCase();
  if (ZERO_DECIMAL.has(code)) return 1_000_000;
  if (THREE_DECIMAL.has(code)) return 1_000;
  return 10_000;
}

/** A Stripe amount (smallest unit) in micro-units. */
export function fromStripeAmount(amount: number, currency: string): number {
  return amount * microsPerMinorUnit(currency);
}

/** Micro-units as a Stripe amount; undefined when the amount is not a whole number of smallest units. */
export function toStripeAmount(micros: number, currency: string): number | undefined {
  const unit = microsPerMinorUnit(currency);
  return micros % unit === 0 ? micros / unit : undefined;
}

/** Whether a Stripe currency (lower case) is the instance's (upper case ISO 4217). */
export function sameCurrency(stripeCurrency: string | null | undefined, instanceCurrency: string): boolean {
  return typeof stripeCurrency === 'string' && stripeCurrency.toUpperCase() === instanceCurrency.toUpperCase();
}
