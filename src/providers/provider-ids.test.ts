/**
 * Nothing outside src/providers/ names a provider: the gateway, the control plane and the wiring ask an
 * adapter's declaration (key, baseUrl, endpoints, passThrough, inProcess) instead. Adding a provider is its
 * folder plus one registry line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PROVIDER_IDS } from './registry.js';

const SRC = fileURLToPath(new URL('..', import.meta.url));
const PROVIDERS_DIR = fileURLToPath(new URL('.', import.meta.url));

/**
 * Where the same spelling means a wire protocol, not a provider: the error bodies of the OpenAI and
 * Anthropic APIs that /v1 routes answer in.
 */
const PROTOCOL_NAMES: Record<string, string> = {
  'http/errors.ts': 'names the error-body protocols of the /v1 routes',
  'gateway/protocols.ts': 'names the error-body protocols of the /v1 endpoints',
};

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...tsFiles(path));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Every quoted literal (', ", `) in a source text that equals a provider id (comments are not code). */
function providerLiterals(source: string): string[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');
  const found: string[] = [];
  for (const match of text.matchAll(/(['"`])([a-z0-9-]+)\1/g)) {
    const literal = match[2] as string;
    if ((PROVIDER_IDS as string[]).includes(literal)) found.push(literal);
  }
  return found;
}

describe('provider ids', () => {
  it('appear as string literals only inside src/providers/', () => {
    const offenders: string[] = [];
    for (const file of tsFiles(SRC)) {
      if (file.startsWith(PROVIDERS_DIR)) continue;
      const path = relative(SRC, file).split('\\').join('/');
      if (PROTOCOL_NAMES[path]) continue;
      for (const literal of providerLiterals(readFileSync(file, 'utf8'))) offenders.push(`${path}: '${literal}'`);
    }
    expect(offenders).toEqual([]);
  });

  it('the scan finds a literal (so an empty result means something)', () => {
    expect(providerLiterals(`if (channel.type === '${PROVIDER_IDS[0]}') {}`)).toEqual([PROVIDER_IDS[0]]);
  });
});
