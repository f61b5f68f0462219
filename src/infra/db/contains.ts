import { type RawBuilder, sql } from 'kysely';

/**
 * A case-insensitive "contains" match of `search` in any of `columns` (SQL expressions, e.g. `lower(name)` is
 * applied here), on both engines; `%`, `_` and `\` in the search are literal characters.
 */
export function containsAny(search: string, columns: string[]): RawBuilder<boolean> {
  const pattern = `%${search.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
  const tests = columns.map((column) => sql`lower(${sql.ref(column)}) like ${pattern} escape '\\'`);
  return sql<boolean>`(${sql.join(tests, sql` or `)})`;
}
