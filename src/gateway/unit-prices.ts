/**
 * Per-unit prices (issue 19): images, seconds of audio, characters of speech, rerank search units, in
 * micro-USD per unit, beside a model's per-token prices. The rule: a request that produced units its model
 * has a price for is billed by those units; otherwise it is billed by its tokens as before (gpt-image-1 and
 * gpt-4o-transcribe report tokens, and an operator may price them per token).
 */

/** A model's per-unit prices (micro-USD per unit); an absent price means "not billed by this unit". */
export interface UnitPrices {
  /** Per image, whatever its size or quality, when `images` has no entry for it. */
  image?: number | undefined;
  /** Per image by `size/quality` (e.g. `1024x1024/hd`) or by `size` alone (e.g. `1024x1024`). */
  images?: Record<string, number> | undefined;
  /** Per second of audio input (transcriptions, translations). */
  second?: number | undefined;
  /** Per character of speech input (`/v1/audio/speech`). */
  character?: number | undefined;
  /** Per search unit (`/v1/rerank`). */
  searchUnit?: number | undefined;
}

/** What a request produced in units (each absent when the endpoint has none of it). */
export interface BillableUnits {
  images?: number | undefined;
  /** The images' `size/quality`, for the `images` price map. */
  imageVariant?: { size: string; quality: string } | undefined;
  seconds?: number | undefined;
  characters?: number | undefined;
  searchUnits?: number | undefined;
}

/** The price of one image of `variant`: by size and quality, by size, else the default (undefined: none). */
export function imagePrice(prices: UnitPrices, variant: BillableUnits['imageVariant']): number | undefined {
  if (variant && prices.images) {
    const exact = prices.images[`${variant.size}/${variant.quality}`] ?? prices.images[variant.size];
    if (exact !== undefined) return exact;
  }
  return prices.image;
}

/**
 * Micro-USD of the units that have a price, or null when none of them does (then tokens are billed).
 * Fractional seconds are billed to the micro-USD, rounded up.
 */
export function unitCost(units: BillableUnits | undefined, prices: UnitPrices | null): number | null {
  if (!units || !prices) return null;
  let cost = 0;
  let priced = false;
  if (units.images !== undefined) {
    const each = imagePrice(prices, units.imageVariant);
    if (each !== undefined) {
      cost += units.images * each;
      priced = true;
    }
  }
  if (units.seconds !== undefined && prices.second !== undefined) {
    cost += Math.ceil(units.seconds * prices.second);
    priced = true;
  }
  if (units.characters !== undefined && prices.character !== undefined) {
    cost += units.characters * prices.character;
    priced = true;
  }
  if (units.searchUnits !== undefined && prices.searchUnit !== undefined) {
    cost += units.searchUnits * prices.searchUnit;
    priced = true;
  }
  return priced ? cost : null;
}

const KEYS = ['image', 'second', 'character', 'searchUnit'] as const;

/** Read stored unit prices (JSON text) defensively: anything malformed is left out, never thrown. */
export function parseUnitPrices(json: string | null | undefined): UnitPrices | null {
  if (!json) return null;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  const out: UnitPrices = {};
  for (const key of KEYS) {
    const price = record[key];
    if (typeof price === 'number' && Number.isInteger(price) && price >= 0) out[key] = price;
  }
  const images = record.images;
  if (images && typeof images === 'object' && !Array.isArray(images)) {
    const map: Record<string, number> = {};
    for (const [variant, price] of Object.entries(images))
      if (typeof price === 'number' && Number.isInteger(price) && price >= 0) map[variant] = price;
    if (Object.keys(map).length > 0) out.images = map;
  }
  return Object.keys(out).length > 0 ? out : null;
}
