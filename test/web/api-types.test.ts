import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiTypes, readOpenApi, SCHEMA_FILE } from '../../scripts/api-types.js';

describe('console API types', () => {
  it('match the server routes (run `npm run web:types` after changing a route)', async () => {
    const expected = await apiTypes(await readOpenApi());
    expect(readFileSync(SCHEMA_FILE, 'utf8') === expected, 'web/src/api/schema.d.ts is stale: npm run web:types').toBe(
      true,
    );
  }, 30_000);
});
