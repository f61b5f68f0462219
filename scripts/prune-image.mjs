#!/usr/bin/env node
// Shrinks a production node_modules for the container image (see Dockerfile): drops what is never loaded at
// run time — source maps, type declarations, docs, native build leftovers, the TypeScript and ESM copies of
// gpt-tokenizer (the token counter loads its CommonJS build through require.resolve). Usage:
//   node scripts/prune-image.mjs node_modules
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Files never read at run time, by name. */
const DEAD_FILE = /(\.map|\.d\.ts|\.d\.mts|\.d\.cts|\.md|\.markdown)$/i;
/** Whole folders never read at run time, relative to node_modules. */
const DEAD_DIRS = [
  'better-sqlite3/deps', // SQLite's C sources (compiled into the addon)
  'better-sqlite3/src',
  'better-sqlite3/build/Release/obj',
  'better-sqlite3/build/Release/obj.target',
  'better-sqlite3/build/Release/.deps',
  'better-sqlite3/build/deps',
  'gpt-tokenizer/src',
  'gpt-tokenizer/esm',
];
/** Files kept even though their name matches DEAD_FILE (licences must ship with the code). */
const KEEP = /^(licen[cs]e|notice|copying)/i;

/** Remove dead files and folders under `root`; returns the bytes removed. */
export function pruneNodeModules(root) {
  let removed = 0;
  for (const dir of DEAD_DIRS) removed += removePath(join(root, dir));
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && DEAD_FILE.test(entry.name) && !KEEP.test(entry.name)) removed += removePath(path);
    }
  };
  walk(root);
  return removed;
}

function removePath(path) {
  let size = 0;
  try {
    size = sizeOf(path);
  } catch {
    return 0;
  }
  rmSync(path, { recursive: true, force: true });
  return size;
}

function sizeOf(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const entry of readdirSync(path)) total += sizeOf(join(path, entry));
  return total;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const root = process.argv[2] ?? 'node_modules';
  const bytes = pruneNodeModules(root);
  console.log(`pruned ${(bytes / 1024 / 1024).toFixed(1)} MiB from ${root}`);
}
