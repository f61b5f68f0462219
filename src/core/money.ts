/** Money is an integer number of micro-USD (1 USD = 1_000_000). Prices are micro-USD per 1M tokens. */
export const MICROS_PER_USD = 1_000_000;

/** Cost in micro-USD of `tokens` at `pricePerMillion` micro-USD per 1M tokens, rounded up to a whole micro-USD. */
export function tokenCost(tokens: number, pricePerMillion: number): number {
  if (tokens <= 0 || pricePerMillion <= 0) return 0;
  return Math.ceil((tokens * pricePerMillion) / 1_000_000);
}

export function usdToMicros(usd: number): number {
  return Math.round(usd * MICROS_PER_USD);
}

export function microsToUsd(micros: number): number {
  return micros / MICROS_PER_USD;
}
