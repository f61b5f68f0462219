import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:https';
import { join } from 'node:path';
import { freePort } from './processes.js';

/**
 * Pebble, Let's Encrypt's RFC 8555 test server (Debian package `pebble`), with pebble-challtestsrv as its DNS
 * (every name resolves to 127.0.0.1), so the real ACME flow runs on loopback: the CA's validation authority
 * fetches http://NAME:httpPort/.well-known/acme-challenge/TOKEN from the hub.
 */
export interface Pebble {
  directoryUrl: string;
  /** PEM file of the CA that signs Pebble's own HTTPS (AIHUB_ACME_CA_FILE). */
  caFile: string;
  /** The port Pebble's validation authority connects to for HTTP-01 (where the hub must answer). */
  httpPort: number;
  /** PEM of the root that issued the certificates (regenerated on every Pebble start). */
  root(): Promise<string>;
  stop(): void;
}

export const hasPebble =
  spawnSync('pebble', ['-h'], { stdio: 'ignore' }).error === undefined &&
  spawnSync('pebble-challtestsrv', ['-h'], { stdio: 'ignore' }).error === undefined &&
  spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

export async function startPebble(dir: string): Promise<Pebble> {
  const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  const [acmePort, managementPort, httpPort, tlsPort, dnsPort, challtestPort] = ports as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const cert = join(dir, 'pebble.crt');
  const key = join(dir, 'pebble.key');
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=pebble'],
      ...['-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
    ],
    { stdio: 'ignore' },
  );
  const config = join(dir, 'pebble.json');
  writeFileSync(
    config,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate: cert,
        privateKey: key,
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
      },
    }),
  );
  const children: ChildProcess[] = [];
  let output = '';
  const collect = (child: ChildProcess) => {
    child.stdout?.on('data', (c) => (output += c));
    child.stderr?.on('data', (c) => (output += c));
    children.push(child);
  };
  collect(
    spawn(
      'pebble-challtestsrv',
      [
        ...['-defaultIPv4', '127.0.0.1', '-defaultIPv6', ''],
        ...['-dns01', `127.0.0.1:${dnsPort}`, '-management', `127.0.0.1:${challtestPort}`],
        ...['-http01', '', '-https01', '', '-tlsalpn01', ''],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  collect(
    spawn('pebble', ['-config', config, '-dnsserver', `127.0.0.1:${dnsPort}`, '-strict=false'], {
      // No random sleeps before validating; never reuse an earlier valid authorization (a failed-challenge
      // test must really be challenged).
      env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_AUTHZREUSE: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const ca = readFileSync(cert, 'utf8');
  const agent = new Agent({ ca });
  const fetchText = (url: string) =>
    new Promise<string>((done, fail) => {
      get(url, { agent }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (text += c));
        res.on('end', () => (res.statusCode === 200 ? done(text) : fail(new Error(`${url}: ${res.statusCode}`))));
      }).once('error', fail);
    });
  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  const stop = () => {
    for (const child of children) child.kill('SIGKILL');
  };
  for (let i = 0; ; i++) {
    try {
      await fetchText(directoryUrl);
      break;
    } catch (error) {
      if (i > 100) {
        stop();
        throw new Error(`pebble did not start: ${String(error)}\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    directoryUrl,
    caFile: cert,
    httpPort,
    root: () => fetchText(`https://127.0.0.1:${managementPort}/roots/0`),
    stop,
  };
}
