import { execFile, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const SCRIPT = join(ROOT, 'scripts/build-if-stale.mjs');

/** A tiny project laid out like ours (src/, web/, tsconfig.build.json), sharing our node_modules. */
function fixture(): string {
  const dir = mkdtempSync(join(tmpdir(), 'aihub-build-'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src/main.ts'), 'export const answer: number = 42;\n');
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', strict: true, skipLibCheck: true, types: [] },
    }),
  );
  writeFileSync(
    join(dir, 'tsconfig.build.json'),
    JSON.stringify({
      extends: './tsconfig.json',
      compilerOptions: { rootDir: 'src', outDir: 'dist' },
      include: ['src'],
    }),
  );
  mkdirSync(join(dir, 'web'));
  writeFileSync(
    join(dir, 'web/vite.config.ts'),
    "import { fileURLToPath } from 'node:url';\nexport default { root: fileURLToPath(new URL('.', import.meta.url)) };\n",
  );
  writeFileSync(
    join(dir, 'web/index.html'),
    '<!doctype html><div id="app"></div><script type="module" src="./main.js"></script>\n',
  );
  writeFileSync(join(dir, 'web/main.js'), "document.getElementById('app').textContent = 'one';\n");
  return dir;
}

function build(dir: string, ...args: string[]): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  return new Promise((done) => {
    execFile(
      process.execPath,
      [SCRIPT, ...args],
      { env: { ...process.env, AIHUB_BUILD_ROOT: dir }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        done({ code, output: stdout + stderr, ms: Date.now() - started });
      },
    );
  });
}

/** Bump a file's mtime past the last build (mtime granularity and clock skew aside). */
function touch(path: string, content: string): void {
  writeFileSync(path, content);
}

const assets = (dir: string) => readdirSync(join(dir, 'dist/web/assets')).filter((n) => n.endsWith('.js'));
/** The hashed scripts an index.html asks for. */
const referenced = (html: string) => [...html.matchAll(/\/assets\/([\w.-]+\.js)/g)].map((m) => m[1] as string);

describe('scripts/build-if-stale.mjs', () => {
  let dir: string;
  beforeAll(() => {
    dir = fixture();
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds what is missing, then nothing while the sources are unchanged (a restart stays fast)', async () => {
    const first = await build(dir);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toContain('built server and console');
    expect(existsSync(join(dir, 'dist/main.js'))).toBe(true);
    expect(existsSync(join(dir, 'dist/web/index.html'))).toBe(true);

    const again = await build(dir);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toBe('');
    expect(again.ms).toBeLessThan(3000);
  }, 120_000);

  it('rebuilds only the server when src/ changed, only the console when web/ changed', async () => {
    await new Promise((r) => setTimeout(r, 20));
    touch(join(dir, 'src/main.ts'), 'export const answer: number = 43;\n');
    const server = await build(dir);
    expect(server.output).toContain('built server');
    expect(server.output).not.toContain('console');
    expect(readFileSync(join(dir, 'dist/main.js'), 'utf8')).toContain('43');

    const before = assets(dir);
    const firstIndex = readFileSync(join(dir, 'dist/web/index.html'), 'utf8');
    touch(join(dir, 'web/main.js'), "document.getElementById('app').textContent = 'two';\n");
    const web = await build(dir);
    expect(web.output).toContain('built console');
    expect(web.output).not.toContain('server');
    const secondIndex = readFileSync(join(dir, 'dist/web/index.html'), 'utf8');
    expect(secondIndex).not.toBe(firstIndex);
    // The previous build's assets stay, so a page loaded from the previous index.html still works.
    for (const name of [...referenced(firstIndex), ...referenced(secondIndex)]) expect(assets(dir)).toContain(name);

    // One generation only: after a third build the first build's own assets are gone.
    touch(join(dir, 'web/main.js'), "document.getElementById('app').textContent = 'three';\n");
    expect((await build(dir)).output).toContain('built console');
    for (const name of before) expect(assets(dir)).not.toContain(name);
    for (const name of referenced(secondIndex)) expect(assets(dir)).toContain(name);
  }, 120_000);

  it('never shows a reader a half-written console: every index.html it reads has all its assets', async () => {
    touch(join(dir, 'web/main.js'), "document.getElementById('app').textContent = 'four';\n");
    const child = spawn(process.execPath, [SCRIPT, '--console'], {
      env: { ...process.env, AIHUB_BUILD_ROOT: dir },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    let running = true;
    void exited.then(() => {
      running = false;
    });
    const broken: string[] = [];
    let reads = 0;
    while (running) {
      let html: string;
      try {
        html = readFileSync(join(dir, 'dist/web/index.html'), 'utf8');
      } catch {
        continue; // the instant between the two renames: the server keeps its last copy then
      }
      reads += 1;
      for (const name of referenced(html)) {
        if (existsSync(join(dir, 'dist/web/assets', name))) continue;
        // A swap between the read and this check (the instant between the two renames, or the new build in
        // place): only an asset missing while the same index.html is still in place is a broken console.
        let now = '';
        try {
          now = readFileSync(join(dir, 'dist/web/index.html'), 'utf8');
        } catch {}
        if (now === html) broken.push(name);
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(await exited).toBe(0);
    expect(reads).toBeGreaterThan(0);
    expect(broken).toEqual([]);
  }, 120_000);

  it('fails with a non-zero exit when the build fails', async () => {
    touch(join(dir, 'src/main.ts'), 'export const answer: number = "not a number";\n');
    const failed = await build(dir, '--server');
    expect(failed.code).not.toBe(0);
    expect(failed.output).toContain('build failed');
    touch(join(dir, 'src/main.ts'), 'export const answer: number = 44;\n');
  }, 120_000);
});
