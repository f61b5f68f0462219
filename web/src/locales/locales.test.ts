import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

type Tree = { [key: string]: string | Tree };

/** Every leaf key of a messages tree, dotted. */
function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'string' ? [`${prefix}${key}`] : keys(value, `${prefix}${key}.`),
  );
}

const dir = (locale: string) => fileURLToPath(new URL(`./${locale}/`, import.meta.url));
const files = readdirSync(dir('en')).filter((f) => f.endsWith('.ts'));
/** Messages only Chinese needs: the server's English permission descriptions, in Chinese. */
const ZH_ONLY = /^roles\.permissions\./;

describe('console texts', () => {
  it('exist in both languages, file for file', () => {
    expect(
      readdirSync(dir('zh-CN'))
        .filter((f) => f.endsWith('.ts'))
        .sort(),
    ).toEqual([...files].sort());
  });

  it.each(files)('%s has the same keys in English and Chinese', async (file) => {
    const area = file.replace(/\.ts$/, '');
    const en = keys(((await import(`./en/${area}.ts`)) as { default: Tree }).default, `${area}.`);
    const zh = keys(((await import(`./zh-CN/${area}.ts`)) as { default: Tree }).default, `${area}.`).filter(
      (k) => !ZH_ONLY.test(k),
    );
    expect(
      zh.filter((k) => !en.includes(k)),
      'only in zh-CN',
    ).toEqual([]);
    expect(
      en.filter((k) => !zh.includes(k)),
      'only in en',
    ).toEqual([]);
  });
});
