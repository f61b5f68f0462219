#!/usr/bin/env node
// Summarise a .cpuprofile: self time by function and by file (top N), to see what dominates.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const top = Number(process.argv[3] ?? 25);
if (!file) {
  console.error('usage: node bench/summarize-profile.mjs <file.cpuprofile> [top]');
  process.exit(1);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const self = new Map(profile.nodes.map((n) => [n.id, 0]));
const dt = profile.timeDeltas;
for (let i = 0; i < profile.samples.length; i++)
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (dt[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const byFn = new Map();
const byFile = new Map();
for (const node of profile.nodes) {
  const t = self.get(node.id) ?? 0;
  const cf = node.callFrame;
  const where = (cf.url || '(native)')
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\//, 'node_modules/')
    .replace(/.*\/dist\//, 'dist/');
  const fn = `${cf.functionName || '(anonymous)'} ${where}:${cf.lineNumber + 1}`;
  byFn.set(fn, (byFn.get(fn) ?? 0) + t);
  const pkg = where.startsWith('node_modules/')
    ? where
        .split('/')
        .slice(0, where.startsWith('node_modules/@') ? 3 : 2)
        .join('/')
    : where;
  byFile.set(pkg, (byFile.get(pkg) ?? 0) + t);
}
const print = (title, map) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
};
print('Self time by function', byFn);
print('Self time by file / package', byFile);
