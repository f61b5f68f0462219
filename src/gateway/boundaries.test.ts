/**
 * The data plane is one-way: it owns its ports and imports nothing from the control plane; the control
 * plane reaches it only through its facade (index.ts) or its ports (ports.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('..', import.meta.url));

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFiles(path));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** The src-relative paths a file imports (relative specifiers only, `.js` → `.ts`). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    const target = resolve(dirname(file), (match[1] as string).replace(/\.js$/, '.ts'));
    out.push(relative(SRC, target).split('\\').join('/'));
  }
  return out;
}

const rel = (file: string) => relative(SRC, file).split('\\').join('/');

describe('data plane boundaries', () => {
  it('src/gateway imports nothing from src/modules', () => {
    const offenders = tsFiles(join(SRC, 'gateway')).flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith('modules/'))
        .map((target) => `${rel(file)} → ${target}`),
    );
    expect(offenders).toEqual([]);
  });

  it('src/modules imports from src/gateway only its facade or its ports', () => {
    const allowed = new Set(['gateway/index.ts', 'gateway/ports.ts']);
    const offenders = tsFiles(join(SRC, 'modules')).flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith('gateway/') && !allowed.has(target))
        .map((target) => `${rel(file)} → ${target}`),
    );
    expect(offenders).toEqual([]);
  });

  it('the catalog does not import routing (no cycle between them)', () => {
    expect(importsOf(join(SRC, 'gateway/catalog.ts')).filter((t) => t.startsWith('gateway/pipeline/'))).toEqual([]);
  });

  it('the scan sees imports (so an empty result means something)', () => {
    expect(importsOf(join(SRC, 'gateway/gateway.ts'))).toContain('gateway/ports.ts');
  });
});
