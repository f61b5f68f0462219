#!/usr/bin/env node
// The `aihub` command. Runs the compiled code in dist/ (built by `npm run build`, `npm install` or `npm start`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('AI Hub is not built yet: run `npm run build` (npm start does it for you).');
  process.exit(1);
}
const { runCli } = await import(entry.href);
await runCli(process.argv);
