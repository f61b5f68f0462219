import { describe, expect, it } from 'vitest';
import { costOf } from './accounting.js';
import { imagePrice, parseUnitPrices, unitCost } from './unit-prices.js';

const prices = { image: 40_000, images: { '1024x1024/hd': 80_000, '1792x1024': 120_000 }, second: 100, character: 15 };

describe('unit prices', () => {
  it('prices an image by size/quality, then by size, then the default', () => {
    expect(imagePrice(prices, { size: '1024x1024', quality: 'hd' })).toBe(80_000);
    expect(imagePrice(prices, { size: '1792x1024', quality: 'standard' })).toBe(120_000);
    expect(imagePrice(prices, { size: '512x512', quality: 'standard' })).toBe(40_000);
    expect(imagePrice({}, { size: '512x512', quality: 'standard' })).toBeUndefined();
  });

  it('bills priced units, rounding fractional seconds up, and nothing when no unit has a price', () => {
    expect(unitCost({ images: 2, imageVariant: { size: '1024x1024', quality: 'hd' } }, prices)).toBe(160_000);
    expect(unitCost({ seconds: 12.345 }, prices)).toBe(1235);
    expect(unitCost({ characters: 11 }, prices)).toBe(165);
    expect(unitCost({ searchUnits: 3 }, prices)).toBeNull();
    expect(unitCost({ searchUnits: 3 }, { searchUnit: 2000 })).toBe(6000);
    expect(unitCost(undefined, prices)).toBeNull();
  });

  it('bills units instead of tokens when the model prices the unit, tokens otherwise', () => {
    const model = { input: 1_000_000, output: 2_000_000, cachedInput: null, units: prices };
    const tokens = { prompt: 10, completion: 0, cached: 0, reasoning: 0, estimated: false };
    expect(costOf({ ...tokens, units: { characters: 11 } }, model)).toBe(165);
    expect(costOf({ ...tokens, units: { searchUnits: 1 } }, model)).toBe(10);
    expect(costOf(tokens, { ...model, units: null })).toBe(10);
  });

  it('reads stored prices defensively', () => {
    expect(parseUnitPrices(JSON.stringify(prices))).toEqual(prices);
    expect(parseUnitPrices('{"image":-1,"second":1.5,"images":{"a":"x"}}')).toBeNull();
    expect(parseUnitPrices('not json')).toBeNull();
    expect(parseUnitPrices(null)).toBeNull();
  });
});
