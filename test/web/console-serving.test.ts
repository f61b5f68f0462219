import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

const INDEX = '<!doctype html><div id="app"></div><script type="module" src="/assets/index-abc123.js"></script>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

describe('web console serving', () => {
  let t: TestApp;
  let webDir: string;

  beforeAll(async () => {
    webDir = mkdtempSync(join(tmpdir(), 'aihub-web-'));
    mkdirSync(join(webDir, 'assets'));
    writeFileSync(join(webDir, 'index.html'), INDEX);
    writeFileSync(join(webDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(webDir, 'assets', 'index-abc123.js'), SCRIPT);
    writeFileSync(join(webDir, 'assets', 'index-abc123.js.gz'), gzipSync(SCRIPT));
    t = await startTestApp({ env: { AIHUB_WEB_DIR: webDir } });
  });
  afterAll(async () => {
    await t.close();
    rmSync(webDir, { recursive: true, force: true });
  });

  it('serves the console at / with security headers and no caching of index.html', async () => {
    const res = await fetch(`${t.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await res.text()).toBe(INDEX);
  });

  it.each(['/dashboard', '/admin/channels', '/keys?x=1', '/some/deep/page'])(
    'answers the console route %s with index.html (history mode)',
    async (path) => {
      const res = await fetch(`${t.url}${path}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(INDEX);
    },
  );

  it('serves hashed assets cached for a year, pre-compressed when the browser accepts it', async () => {
    const plain = await fetch(`${t.url}/assets/index-abc123.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(SCRIPT);

    const gz = await fetch(`${t.url}/assets/index-abc123.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(await gz.text()).toBe(SCRIPT); // fetch decompresses
  });

  it('answers a missing asset, an unknown API route and an unknown /v1 route with a 404, not the console', async () => {
    const asset = await fetch(`${t.url}/assets/missing.js`);
    expect(asset.status).toBe(404);
    const apiRes = await fetch(`${t.url}/api/nope`);
    expect(apiRes.status).toBe(404);
    expect(((await apiRes.json()) as { error: { code: string } }).error.code).toBe('not_found');
    const v1 = await fetch(`${t.url}/v1/nope`);
    expect(v1.status).toBe(404);
    expect(((await v1.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  it('keeps the API and the OpenAPI document working beside the console', async () => {
    const settings = await fetch(`${t.url}/api/settings/public`);
    expect(settings.status).toBe(200);
    // No account yet: the sign-in page invites the first visitor to become the admin.
    expect(await settings.json()).toEqual({
      registrationEnabled: true,
      allowSelfServeOrganizations: false,
      firstAccountIsAdmin: true,
      emailVerificationRequired: false,
    });
    expect(
      ((await fetch(`${t.url}/openapi.json`)).headers.get('content-type') ?? '').startsWith('application/json'),
    ).toBe(true);
  });
});

describe('web console not built', () => {
  it('says how to build it instead of failing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'aihub-noweb-'));
    const t = await startTestApp({ env: { AIHUB_WEB_DIR: empty } });
    try {
      const res = await fetch(`${t.url}/dashboard`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('npm run build');
    } finally {
      await t.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

/** A console build in `dir`: index.html asking for /assets/<script>, and the script. */
function writeBuild(dir: string, script: string, extraAssets: string[] = []): string {
  const html = `<!doctype html><script type="module" src="/assets/${script}"></script>`;
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), html);
  writeFileSync(join(dir, 'assets', script), `console.log(${JSON.stringify(script)});`);
  for (const name of extraAssets) writeFileSync(join(dir, 'assets', name), `console.log(${JSON.stringify(name)});`);
  return html;
}

describe('web console rebuilt while the server runs', () => {
  it("serves the new build without a restart, and the previous build's assets to pages loaded before", async () => {
    const root = mkdtempSync(join(tmpdir(), 'aihub-swap-'));
    const webDir = join(root, 'web');
    const first = writeBuild(webDir, 'index-aaa.js');
    const t = await startTestApp({ env: { AIHUB_WEB_DIR: webDir } });
    try {
      expect(await (await fetch(`${t.url}/`)).text()).toBe(first);
      // What scripts/build-if-stale.mjs does: build aside (keeping the previous assets), then rename into place.
      const next = join(root, 'web.tmp');
      const second = writeBuild(next, 'index-bbb.js');
      cpSync(join(webDir, 'assets', 'index-aaa.js'), join(next, 'assets', 'index-aaa.js'));
      renameSync(webDir, join(root, 'web.old'));
      renameSync(next, webDir);
      rmSync(join(root, 'web.old'), { recursive: true });

      expect(await (await fetch(`${t.url}/dashboard`)).text()).toBe(second);
      expect((await fetch(`${t.url}/assets/index-bbb.js`)).status).toBe(200);
      // A browser still on the first build's page asks for its chunks: they are there.
      const old = await fetch(`${t.url}/assets/index-aaa.js`);
      expect(old.status).toBe(200);
      expect(await old.text()).toContain('index-aaa.js');
    } finally {
      await t.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('picks up a console built after the server started', async () => {
    const root = mkdtempSync(join(tmpdir(), 'aihub-late-'));
    const webDir = join(root, 'web');
    const t = await startTestApp({ env: { AIHUB_WEB_DIR: webDir } });
    try {
      expect(await (await fetch(`${t.url}/`)).text()).toContain('npm run build');
      const html = writeBuild(webDir, 'index-ccc.js');
      expect(await (await fetch(`${t.url}/`)).text()).toBe(html);
      expect((await fetch(`${t.url}/assets/index-ccc.js`)).status).toBe(200);
    } finally {
      await t.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
