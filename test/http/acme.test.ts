import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/cli/doctor.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { SecretBox } from '../../src/core/secrets.js';
import { createChallengeServer } from '../../src/modules/tls/challenge-server.js';
import { AcmeRepository } from '../../src/modules/tls/repository.js';
import { type AcmeLog, AcmeManager } from '../../src/modules/tls/service.js';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/databases.js';
import { hasPebble, type Pebble, startPebble } from '../support/pebble.js';
import { exitOf, freePort, type ServerProcess, spawnServer } from '../support/processes.js';

if (!hasPebble) console.warn('[skipped] ACME tests: install the Debian packages pebble and openssl to run them');

const DAY = 86_400_000;
const MASTER = 'acme-test-master-key-0123456789';

describe('ACME configuration', () => {
  it('reads the domains, directory and ports, and refuses what cannot work', () => {
    const acme = loadConfig({ AIHUB_ACME_DOMAINS: 'API.example.com, hub.example.com,api.example.com' }).acme;
    expect(acme).toMatchObject({
      domains: ['api.example.com', 'hub.example.com'],
      directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory',
      httpPort: 80,
      renewDays: 30,
    });
    expect(
      loadConfig({ AIHUB_ACME_DOMAINS: 'a.example.com', AIHUB_ACME_DIRECTORY: 'letsencrypt-staging' }).acme,
    ).toMatchObject({ directoryUrl: 'https://acme-staging-v02.api.letsencrypt.org/directory' });
    expect(loadConfig({}).acme).toBeUndefined();
    expect(() => loadConfig({ AIHUB_ACME_DOMAINS: '*.example.com' })).toThrow(/wildcards/);
    expect(() => loadConfig({ AIHUB_ACME_DOMAINS: 'a.example.com', AIHUB_ACME_DIRECTORY: 'http://ca' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ AIHUB_ACME_DOMAINS: 'a.example.com', AIHUB_ACME_EMAIL: 'nope' })).toThrow(/email/);
    expect(() =>
      loadConfig({
        AIHUB_ACME_DOMAINS: 'a.example.com',
        AIHUB_TLS_CERT: '/etc/hostname',
        AIHUB_TLS_KEY: '/etc/hostname',
      }),
    ).toThrow(/choose one/);
  });
});

/** A logger that keeps what it was told. */
function memoryLog(): AcmeLog & { lines: string[] } {
  const lines: string[] = [];
  const keep = (obj: object, msg: string) => void lines.push(`${msg} ${JSON.stringify(obj)}`);
  return { lines, info: keep, warn: keep, error: keep };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done());
  });
}

const close = (server: Server) => new Promise<void>((done) => server.close(() => done()));

describe.skipIf(!hasPebble)('ACME certificates against Pebble (RFC 8555 test server)', { timeout: 120_000 }, () => {
  let dir: string;
  let pebble: Pebble;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aihub-acme-'));
    pebble = await startPebble(dir);
  }, 60_000);

  afterAll(() => {
    pebble?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('aihub doctor checks that the ACME directory answers', async () => {
    const env = {
      AIHUB_DATA_DIR: join(dir, 'doctor'),
      AIHUB_ACME_DOMAINS: 'hub.aihub.test',
      AIHUB_ACME_DIRECTORY: pebble.directoryUrl,
      AIHUB_ACME_CA_FILE: pebble.caFile,
    };
    const ok = (await runDoctor({ env, timeoutMs: 5000 })).find((f) => f.check === 'ACME');
    expect(ok).toMatchObject({ status: 'ok' });
    const untrusted = (await runDoctor({ env: { ...env, AIHUB_ACME_CA_FILE: undefined }, timeoutMs: 5000 })).find(
      (f) => f.check === 'ACME',
    );
    expect(untrusted).toMatchObject({ status: 'fail', fix: expect.stringMatching(/AIHUB_ACME_CA_FILE/) });
  });

  describe.each(ENGINES)('on %s', (engine) => {
    let db: TestDatabase;
    let offset = 0;
    const clock = { now: () => Date.now() + offset };
    const box = new SecretBox(Buffer.alloc(32, 7));
    const domains = [`hub-${engine}.aihub.test`, `api-${engine}.aihub.test`];
    const manager = (log: AcmeLog, instanceId: string, secretBox = box) =>
      new AcmeManager({
        config: {
          domains,
          email: 'ops@aihub.test',
          directoryUrl: pebble.directoryUrl,
          httpPort: pebble.httpPort,
          caFile: pebble.caFile,
          renewDays: 30,
          checkIntervalMs: 3_600_000,
        },
        repo: new AcmeRepository(db.handle.db),
        secretBox,
        clock,
        log,
        instanceId,
        firstRetryMs: 60_000,
      });
    const logA = memoryLog();
    const logB = memoryLog();
    let a: AcmeManager;
    let b: AcmeManager;
    let challenges: Server;

    beforeAll(async () => {
      db = await createTestDatabase(engine);
      a = manager(logA, 'ins_a');
      b = manager(logB, 'ins_b');
      // The CA's request may reach either instance: this listener answers through B, A orders.
      challenges = createChallengeServer({ challenge: (t) => b.challenge(t), domains, httpsPort: 443 });
      await listen(challenges, pebble.httpPort);
    });

    afterAll(async () => {
      if (challenges.listening) await close(challenges);
      await db?.drop();
    });

    it('obtains a certificate for every name over HTTP-01, answered by another instance', async () => {
      await a.load();
      expect(a.material).toBeUndefined();
      expect(a.status()).toMatchObject({ source: 'acme', notAfter: null, failures: 0 });
      const served: string[] = [];
      a.onCertificate((m) => served.push(m.cert.toString()));
      await a.check();
      expect(a.material).toBeDefined();
      expect(served).toHaveLength(1);
      const [leaf, intermediate] = (a.material?.cert.toString() ?? '').split(/(?<=-----END CERTIFICATE-----)\n?/);
      const cert = new X509Certificate(leaf ?? '');
      expect(cert.subjectAltName).toContain(`DNS:${domains[0]}`);
      expect(cert.subjectAltName).toContain(`DNS:${domains[1]}`);
      expect(cert.checkIssued(new X509Certificate(intermediate ?? ''))).toBe(true);
      expect(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(a.material?.key ?? ''))).toBe(true);
      const status = a.status();
      expect(status.issuer).toMatch(/Pebble/);
      expect(status.notAfter).toBe(Date.parse(cert.validTo));
      expect(status.renewAfter).toBe(Date.parse(cert.validTo) - 30 * DAY);
      expect(status).toMatchObject({ lastError: null, failures: 0, renewing: false });
      expect(logA.lines.filter((l) => l.startsWith('ACME: certificate obtained'))).toHaveLength(1);
      // Private keys are stored encrypted.
      const row = await new AcmeRepository(db.handle.db).get();
      expect(row?.key_pem).toMatch(/^v1:/);
      expect(row?.account_key).toMatch(/^v1:/);
      expect(row?.key_pem).not.toContain('PRIVATE KEY');
    });

    it('a second instance serves the stored certificate without ordering one', async () => {
      await b.load();
      expect(b.material?.cert.toString()).toBe(a.material?.cert.toString());
      await b.check();
      expect(logB.lines.filter((l) => l.startsWith('ACME: ordering'))).toHaveLength(0);
    });

    it('renews 30 days before expiry, once across instances, and both serve the new certificate', async () => {
      const before = a.material?.cert.toString();
      offset = (a.status().notAfter ?? 0) - Date.now() - 29 * DAY;
      const servedByA: string[] = [];
      a.onCertificate((m) => servedByA.push(m.cert.toString()));
      await Promise.all([a.check(), b.check()]);
      const orders = [...logA.lines, ...logB.lines].filter((l) => l.startsWith('ACME: ordering'));
      expect(orders).toHaveLength(2); // the first certificate, and one renewal between the two instances
      offset = 0;
      await Promise.all([a.check(), b.check()]);
      expect(a.material?.cert.toString()).not.toBe(before);
      expect(b.material?.cert.toString()).toBe(a.material?.cert.toString());
      expect(servedByA.at(-1)).toBe(a.material?.cert.toString());
      expect(a.status().renewedAt).toBeGreaterThan(Date.now());
    });

    it('a failed challenge keeps the old certificate, records the error and waits before retrying', async () => {
      const before = a.material?.cert.toString();
      await close(challenges); // nobody answers the CA now
      offset = (a.status().notAfter ?? 0) - Date.now() - 29 * DAY;
      await a.check();
      expect(a.material?.cert.toString()).toBe(before);
      const status = a.status();
      expect(status.failures).toBe(1);
      expect(status.lastError).toBeTruthy();
      expect(logA.lines.some((l) => l.startsWith('ACME: could not obtain the certificate'))).toBe(true);
      const attempted = status.lastAttemptAt;
      await a.check();
      expect(a.status().lastAttemptAt).toBe(attempted); // backing off: no new order within a minute
      offset += 61_000;
      await listen(challenges, pebble.httpPort);
      await a.check();
      expect(a.status()).toMatchObject({ failures: 0, lastError: null });
      expect(a.material?.cert.toString()).not.toBe(before);
    });

    it('orders a new certificate when the stored one was sealed with another secret key (a restore elsewhere)', async () => {
      offset = 0;
      const log = memoryLog();
      const elsewhere = manager(log, 'ins_c', new SecretBox(Buffer.alloc(32, 9)));
      await elsewhere.load();
      expect(elsewhere.material).toBeUndefined();
      expect(log.lines.some((l) => l.includes('cannot be decrypted'))).toBe(true);
      await elsewhere.check();
      expect(elsewhere.material).toBeDefined();
      expect(elsewhere.status()).toMatchObject({ failures: 0, lastError: null });
    });
  });
});

/** The certificate presented to a TLS client asking for `servername`, or null when the handshake fails. */
function presented(port: number, servername: string, ca: string): Promise<X509Certificate | null> {
  return new Promise((done) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca }, () => {
      const raw = socket.getPeerX509Certificate();
      socket.end();
      done(raw ?? null);
    });
    socket.once('error', () => done(null));
  });
}

describe.skipIf(!hasPebble)('aihub start with AIHUB_ACME_DOMAINS', { timeout: 180_000 }, () => {
  let dir: string;
  let pebble: Pebble;
  let server: ServerProcess;
  let port: number;
  const name = 'console.aihub.test';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'aihub-acme-start-'));
    pebble = await startPebble(dir);
    port = await freePort();
    server = spawnServer(port, {
      AIHUB_DATA_DIR: join(dir, 'data'),
      AIHUB_MASTER_KEY: MASTER,
      AIHUB_LOG_LEVEL: 'info',
      AIHUB_LOG_FORMAT: 'json',
      AIHUB_ACME_DOMAINS: name,
      AIHUB_ACME_EMAIL: 'ops@aihub.test',
      AIHUB_ACME_DIRECTORY: pebble.directoryUrl,
      AIHUB_ACME_CA_FILE: pebble.caFile,
      AIHUB_ACME_HTTP_PORT: String(pebble.httpPort),
    });
  }, 60_000);

  afterAll(async () => {
    server?.child.kill('SIGTERM');
    if (server) await exitOf(server.child, 10_000);
    pebble?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves HTTPS with the certificate it obtained, redirects plain HTTP and reports the certificate', async () => {
    const root = await pebble.root();
    let cert: X509Certificate | null = null;
    for (let i = 0; i < 600 && !cert && server.child.exitCode === null; i++) {
      cert = await presented(port, name, root);
      if (!cert) await new Promise((r) => setTimeout(r, 100));
    }
    expect(cert, server.output()).not.toBeNull();
    expect(cert?.subjectAltName).toBe(`DNS:${name}`);
    // JSON log lines are written in batches (at least every second): wait for the listening line.
    for (let i = 0; i < 50 && !/listening on https:/.test(server.output()); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(server.output()).toMatch(/listening on https:\/\/127\.0\.0\.1:/);

    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((done, fail) => {
        https
          .get(
            {
              host: '127.0.0.1',
              port,
              path,
              servername: name,
              ca: root,
              headers: { authorization: `Bearer ${MASTER}` },
            },
            (res) => {
              let body = '';
              res.setEncoding('utf8');
              res.on('data', (c) => (body += c));
              res.on('end', () => done({ status: res.statusCode ?? 0, body }));
            },
          )
          .once('error', fail);
      });
    expect((await get('/ready')).status).toBe(200);
    const status = await get('/api/admin/tls');
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body)).toMatchObject({
      source: 'acme',
      domains: [name],
      issuer: expect.stringMatching(/Pebble/),
      failures: 0,
      lastError: null,
    });

    const redirect = await fetch(`http://127.0.0.1:${pebble.httpPort}/v1/models?x=1`, {
      headers: { host: name },
      redirect: 'manual',
    });
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get('location')).toBe(`https://${name}:${port}/v1/models?x=1`);
    const unknown = await fetch(`http://127.0.0.1:${pebble.httpPort}/.well-known/acme-challenge/nope`);
    expect(unknown.status).toBe(404);
  });

  it('refuses the certificate status to a caller without the admin role', async () => {
    const root = await pebble.root();
    const status = await new Promise<number>((done, fail) => {
      https
        .get({ host: '127.0.0.1', port, path: '/api/admin/tls', servername: name, ca: root }, (res) => {
          res.resume();
          done(res.statusCode ?? 0);
        })
        .once('error', fail);
    });
    expect(status).toBe(401);
  });
});
