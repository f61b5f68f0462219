#!/usr/bin/env node
// Summarise a .cpuprofile: self time by function and by file (top N), to see what dominates.
//   node bench/summarize-profile.mjs <file.cpuprofile> [top] [--load] [--lines]
// --load   count only the load: skip start-up (the first busy stretch) and idle stretches (100 ms buckets
//          that are mostly idle), so module loading and schema compilation do not hide the request path.
// --lines  also list the hottest source lines (V8's position ticks; builtins such as String#includes or
//          JSON.parse are counted on the line that calls them).
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--') && Number.isNaN(Number(a)));
const top = Number(args.find((a) => !Number.isNaN(Number(a))) ?? 25);
const onlyLoad = args.includes('--load');
const lines = args.includes('--lines');
if (!file) {
  console.error('usage: node bench/summarize-profile.mjs <file.cpuprofile> [top] [--load] [--lines]');
  process.exit(1);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const isIdle = (id) => byId.get(id)?.callFrame.functionName === '(idle)';

// Which samples count: all, or (--load) those in busy 100 ms buckets after start-up.
const BUCKET_US = 100_000;
const bucketOf = [];
const buckets = new Map();
let t = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i] ?? 0;
  const b = Math.floor(t / BUCKET_US);
  bucketOf.push(b);
  const e = buckets.get(b) ?? { idle: 0, all: 0 };
  e.all += profile.timeDeltas[i] ?? 0;
  if (isIdle(profile.samples[i])) e.idle += profile.timeDeltas[i] ?? 0;
  buckets.set(b, e);
}
const busy = ([, e]) => e.idle / e.all < 0.5;
const ordered = [...buckets].sort((a, b) => a[0] - b[0]);
let firstQuiet = 0;
while (firstQuiet < ordered.length && busy(ordered[firstQuiet])) firstQuiet++;
const counted = new Set(
  ordered
    .slice(firstQuiet)
    .filter(busy)
    .map(([b]) => b),
);
const counts = (i) => !onlyLoad || counted.has(bucketOf[i]);

const self = new Map(profile.nodes.map((n) => [n.id, 0]));
for (let i = 0; i < profile.samples.length; i++)
  if (counts(i)) self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const where = (url) =>
  (url || '(native)')
    .replace(/^file:\/\//, '')
    .replace(/.*node_modules\//, 'node_modules/')
    .replace(/.*\/dist\//, 'dist/');
const byFn = new Map();
const byFile = new Map();
for (const node of profile.nodes) {
  const t = self.get(node.id) ?? 0;
  const cf = node.callFrame;
  const w = where(cf.url);
  const fn = `${cf.functionName || '(anonymous)'} ${w}:${cf.lineNumber + 1}`;
  byFn.set(fn, (byFn.get(fn) ?? 0) + t);
  const pkg = w.startsWith('node_modules/')
    ? w
        .split('/')
        .slice(0, w.startsWith('node_modules/@') ? 3 : 2)
        .join('/')
    : w;
  byFile.set(pkg, (byFile.get(pkg) ?? 0) + t);
}
const print = (title, map) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
};
if (onlyLoad) console.log(`load: ${counted.size} busy 100 ms buckets, ${(total / 1e6).toFixed(2)} s of samples`);
print('Self time by function', byFn);
print('Self time by file / package', byFile);
if (lines) {
  // Position ticks are per node for the whole profile (they cannot be split by time).
  const ticks = new Map();
  let all = 0;
  for (const node of profile.nodes) {
    for (const { line, ticks: n } of node.positionTicks ?? []) {
      all += n;
      const key = `${where(node.callFrame.url)}:${line} ${node.callFrame.functionName || '(anonymous)'}`;
      ticks.set(key, (ticks.get(key) ?? 0) + n);
    }
  }
  console.log('\nHottest lines (whole profile)');
  for (const [k, v] of [...ticks].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${((v / all) * 100).toFixed(1).padStart(5)}%  ${k}`);
}
