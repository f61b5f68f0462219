import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { readTlsFiles } from '../../src/http/tls.js';
import { freePort, ROOT } from '../support/processes.js';

const MASTER = 'tls-test-master-key-0123456789';
const hasOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
if (!hasOpenssl) console.warn('[skipped] TLS tests: the openssl command is not installed');

/** A self-signed certificate for localhost / 127.0.0.1, made with openssl. */
function makeCertificate(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

/** The certificate a new TLS connection is served (its subject CN). */
function servedName(port: number, ca: Buffer[]): Promise<string> {
  return new Promise((done, fail) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.end();
      done(Array.isArray(cn) ? String(cn[0]) : String(cn));
    });
    socket.once('error', fail);
  });
}

function http1(
  port: number,
  ca: Buffer,
  path: string,
  body?: string,
): Promise<{ status: number; text: string; version: string }> {
  return new Promise((done, fail) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: body ? 'POST' : 'GET',
        ca,
        servername: 'localhost',
        headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => done({ status: res.statusCode ?? 0, text, version: res.httpVersion }));
      },
    );
    req.once('error', fail);
    req.end(body);
  });
}

function h2(port: number, ca: Buffer, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((done, fail) => {
    const session = http2.connect(`https://localhost:${port}`, { ca });
    session.once('error', fail);
    const req = session.request({
      ':method': body ? 'POST' : 'GET',
      ':path': path,
      authorization: `Bearer ${MASTER}`,
      'content-type': 'application/json',
    });
    let status = 0;
    let text = '';
    req.setEncoding('utf8');
    req.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      session.close();
      done({ status, text });
    });
    req.once('error', fail);
    req.end(body);
  });
}

describe('TLS configuration', () => {
  it('wants both files or neither, and files that exist', () => {
    expect(() => loadConfig({ AIHUB_TLS_CERT: '/etc/hostname' })).toThrow(/set both/);
    expect(() => loadConfig({ AIHUB_TLS_CERT: '/nope.crt', AIHUB_TLS_KEY: '/nope.key' })).toThrow(ConfigError);
    expect(loadConfig({}).tls).toBeUndefined();
  });

  it.skipIf(!hasOpenssl)('refuses a key that does not belong to the certificate, naming the files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'aihub-tls-'));
    try {
      const a = makeCertificate(dir, 'a');
      const b = makeCertificate(dir, 'b');
      expect(() => readTlsFiles({ certFile: a.cert, keyFile: b.key })).toThrow(/AIHUB_TLS_CERT=.*a\.crt/);
      expect(readTlsFiles({ certFile: a.cert, keyFile: a.key }).cert.length).toBeGreaterThan(100);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasOpenssl)(
  'HTTPS and HTTP/2 on one port, certificates reloaded without a restart',
  { timeout: 120_000 },
  () => {
    let dir: string;
    let port: number;
    let server: ChildProcess;
    let logs = '';
    let files: { cert: string; key: string };
    let first: Buffer;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'aihub-tls-'));
      files = makeCertificate(dir, 'first');
      first = readFileSync(files.cert);
      port = await freePort();
      const env: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(process.env))
        if (!k.startsWith('TEST_') && !k.startsWith('AIHUB_') && !['DATABASE_URL', 'REDIS_URL'].includes(k)) env[k] = v;
      server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start'], {
        cwd: ROOT,
        env: {
          ...env,
          PORT: String(port),
          HOST: '127.0.0.1',
          AIHUB_DATA_DIR: join(dir, 'data'),
          AIHUB_MASTER_KEY: MASTER,
          AIHUB_LOG_LEVEL: 'info',
          AIHUB_TLS_CERT: files.cert,
          AIHUB_TLS_KEY: files.key,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      server.stdout?.on('data', (c) => {
        logs += c;
      });
      server.stderr?.on('data', (c) => {
        logs += c;
      });
      for (let i = 0; i < 300 && !/listening on https:/.test(logs); i++) await new Promise((r) => setTimeout(r, 200));
      expect(logs).toMatch(/listening on https:\/\/127\.0\.0\.1:/);
    }, 90_000);

    afterAll(() => {
      server?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

    it('answers HTTP/1.1 and HTTP/2 clients over TLS, streams included', async () => {
      const ready = await http1(port, first, '/ready');
      expect(ready).toMatchObject({ status: 200, version: '1.1' });
      expect((await h2(port, first, '/ready')).status).toBe(200);
      const body = JSON.stringify({ model: 'mock-gpt', stream: true, messages: [{ role: 'user', content: 'Hello' }] });
      for (const answer of [
        await http1(port, first, '/v1/chat/completions', body),
        await h2(port, first, '/v1/chat/completions', body),
      ]) {
        expect(answer.status).toBe(200);
        expect(answer.text).toContain('data: [DONE]');
      }
      const plain = await h2(
        port,
        first,
        '/v1/chat/completions',
        JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'Hi' }] }),
      );
      expect(JSON.parse(plain.text).object).toBe('chat.completion');
    });

    it('serves a renewed certificate to new connections, and keeps the old one when the new files are broken', async () => {
      expect(await servedName(port, [first])).toBe('first');
      const next = makeCertificate(dir, 'second');
      writeFileSync(files.key, readFileSync(next.key));
      writeFileSync(files.cert, readFileSync(next.cert));
      const second = readFileSync(next.cert);
      let name = '';
      for (let i = 0; i < 60 && name !== 'second'; i++) {
        await new Promise((r) => setTimeout(r, 250));
        name = await servedName(port, [first, second]);
      }
      expect(name).toBe('second');
      // Log lines reach stdout in batches, at least every second.
      for (let i = 0; i < 40 && !logs.includes('reloaded the TLS certificate'); i++)
        await new Promise((r) => setTimeout(r, 250));
      expect(logs).toContain('reloaded the TLS certificate');

      writeFileSync(files.cert, 'not a certificate');
      for (let i = 0; i < 60 && !logs.includes('could not be loaded'); i++)
        await new Promise((r) => setTimeout(r, 250));
      expect(logs).toContain('still serving the previous one');
      expect(await servedName(port, [second])).toBe('second');
    });

    it('stops cleanly on SIGTERM', async () => {
      const exited = new Promise<number | null>((done) => server.once('exit', (code) => done(code)));
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    });
  },
);
