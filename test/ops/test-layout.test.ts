/**
 * The layout test/README.md describes: tests in a folder per area, helpers only in test/support/, and every
 * suite run by a host test beside it — a suite nobody imports would silently never run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/processes.js';

const TEST_DIR = join(ROOT, 'test');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

const files = filesUnder(TEST_DIR)
  .map((file) => relative(TEST_DIR, file))
  .filter((file) => !file.startsWith('support/') && !file.startsWith('fixtures/') && file !== 'README.md');

describe('test/ layout', () => {
  it('holds only tests and suites outside support/ and fixtures/, each in an area folder', () => {
    expect(files.filter((file) => !/\.(test|suite)\.ts$/.test(file) || !file.includes('/'))).toEqual([]);
  });

  it('runs every suite from a host test in its own folder', () => {
    const orphans = files
      .filter((file) => file.endsWith('.suite.ts'))
      .filter((suite) => {
        const folder = dirname(suite);
        const specifier = `'./${basename(suite, '.ts')}.js'`;
        return !files.some(
          (file) =>
            file.endsWith('.test.ts') &&
            dirname(file) === folder &&
            readFileSync(join(TEST_DIR, file), 'utf8').includes(specifier),
        );
      });
    expect(orphans).toEqual([]);
  });
});
