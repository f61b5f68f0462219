import { describe, expect, it } from 'vitest';
import { jsonTooDeep, MAX_JSON_DEPTH } from './json-body.js';

const nested = (levels: number): unknown => JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`);
const objects = (levels: number): unknown => JSON.parse(`${'{"a":'.repeat(levels - 1)}{}${'}'.repeat(levels - 1)}`);

describe('jsonTooDeep', () => {
  it('allows MAX_JSON_DEPTH levels and refuses one more, for arrays and objects', () => {
    expect(jsonTooDeep(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonTooDeep(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonTooDeep(objects(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonTooDeep(objects(MAX_JSON_DEPTH + 1))).toBe(true);
  });

  it('judges a million levels without overflowing the stack', () => {
    expect(jsonTooDeep(nested(1_000_000))).toBe(true);
  });

  it('counts depth, not the number of containers: siblings and scalars do not add up', () => {
    expect(jsonTooDeep(JSON.parse(`[${Array.from({ length: 1000 }, () => '[[1,"a",null]]').join(',')}]`))).toBe(false);
    expect(jsonTooDeep({ a: [nested(MAX_JSON_DEPTH - 2), 'x'], b: nested(MAX_JSON_DEPTH - 1) })).toBe(false);
    expect(jsonTooDeep({ a: 1, b: nested(MAX_JSON_DEPTH) })).toBe(true);
  });

  it('takes scalars as they are', () => {
    for (const value of [null, 1, 'x', true]) expect(jsonTooDeep(value)).toBe(false);
  });
});
