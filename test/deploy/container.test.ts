import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config/index.js';
import { startTestApp, type TestApp } from '../support/app.js';

// No container engine runs on these machines: these tests check the facts of the image and compose files
// that can be checked without one (scripts/smoke-image.sh builds and runs the image where Docker exists).

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const KNOWN_VARIABLES = new Set(CONFIG_VARIABLES.map((v) => v.name));

interface Instruction {
  op: string;
  args: string;
}

/** Dockerfile instructions grouped by stage (line continuations joined, comments dropped). */
function parseDockerfile(text: string): Instruction[][] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    current += (current ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (!line.endsWith('\\')) {
      logical.push(current);
      current = '';
    }
  }
  const stages: Instruction[][] = [[]];
  for (const line of logical) {
    const [op = '', ...rest] = line.split(/\s+/);
    const instruction = { op: op.toUpperCase(), args: rest.join(' ') };
    if (instruction.op === 'FROM') stages.push([]);
    (stages[stages.length - 1] as Instruction[]).push(instruction);
  }
  return stages.filter((s) => s.length > 0);
}

/** `ENV A=1 B=2` → { A: '1', B: '2' } (the form our Dockerfile uses). */
function envOf(stage: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { op, args } of stage)
    if (op === 'ENV')
      for (const pair of args.split(/\s+/)) env[pair.split('=')[0] as string] = pair.split('=')[1] ?? '';
  return env;
}

/** JSON-array (exec form) arguments of an instruction. */
const execForm = (args: string): string[] => JSON.parse(args.replace(/^CMD\s+/, '')) as string[];

const SECRET_VARIABLES = /(SECRET|PASSWORD|MASTER_KEY|TOKEN|STRIPE)/;

describe('Dockerfile', () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const runtime = stages[stages.length - 1] as Instruction[];
  const runtimeEnv = envOf(runtime);
  const only = (op: string) => runtime.filter((i) => i.op === op);

  it('builds in one stage and runs from an official Node slim image in another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const from = (runtime[0] as Instruction).args;
    expect(from).toMatch(/^node:\$\{NODE_VERSION\}-[a-z]+-slim\b/);
    const version = /ARG NODE_VERSION=(\d+)/.exec(read('Dockerfile'))?.[1];
    // An LTS line (even major) that package.json's engines accept.
    expect(Number(version) % 2).toBe(0);
    expect(Number(version)).toBeGreaterThanOrEqual(20);
    // The build stage installs dev dependencies; the runtime stage copies a pruned production tree.
    const build = stages.slice(0, -1).flat();
    expect(build.some((i) => i.op === 'RUN' && /npm ci\b/.test(i.args))).toBe(true);
    expect(build.some((i) => i.op === 'RUN' && /npm prune --omit=dev/.test(i.args))).toBe(true);
    expect(runtime.some((i) => i.op === 'RUN' && /npm (ci|install)/.test(i.args))).toBe(false);
  });

  it('runs as a non-root user', () => {
    const users = only('USER').map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^(root|0)(:|$)/);
  });

  it('keeps its data in a /data volume owned by that user', () => {
    expect(runtimeEnv.AIHUB_DATA_DIR).toBe('/data');
    expect(
      only('VOLUME')
        .map((i) => i.args)
        .join(' '),
    ).toContain('/data');
    const user = only('USER').pop()?.args;
    expect(only('RUN').some((i) => new RegExp(`chown ${user}:${user} /data`).test(i.args))).toBe(true);
  });

  it('sets only variables AI Hub reads, exposes the port it listens on, and bakes in no secret', () => {
    for (const name of Object.keys(runtimeEnv)) {
      if (name === 'NODE_ENV') continue;
      expect(KNOWN_VARIABLES, name).toContain(name);
    }
    expect(() => loadConfig(runtimeEnv)).not.toThrow();
    expect(only('EXPOSE').map((i) => i.args)).toEqual([runtimeEnv.PORT]);
    for (const stage of stages)
      for (const { op, args } of stage) if (op === 'ENV' || op === 'ARG') expect(args).not.toMatch(SECRET_VARIABLES);
  });

  it('starts under an init process with the flags of `npm start`, and checks health on a real route', async () => {
    expect(execForm((only('ENTRYPOINT')[0] as Instruction).args)[0]).toMatch(/tini$/);
    const cmd = execForm((only('CMD').pop() as Instruction).args);
    const start = (JSON.parse(read('package.json')) as { scripts: { start: string } }).scripts.start;
    expect(cmd.join(' ')).toBe(start);
    const healthcheck = (only('HEALTHCHECK')[0] as Instruction).args;
    expect(healthcheck).toMatch(/--start-period=\d+s/);
    const path = /'(\/[a-z]+)'\)/.exec(healthcheck)?.[1];
    expect(path).toBe('/ready');
  });

  it('copies only what exists after the build: bin, dist, node_modules and package.json', () => {
    const copied = only('COPY').map((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--'))[0]);
    expect(copied.sort()).toEqual(['/app/bin', '/app/dist', '/app/node_modules', '/app/package.json']);
    expect(read('bin/aihub.js')).toContain('../dist/main.js');
  });

  it('keeps local secrets, data and installed modules out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const entry of ['.env', 'node_modules', 'data', 'dist', '.git']) expect(ignored).toContain(entry);
  });
});

describe('compose files', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  type Service = {
    environment?: Record<string, string>;
    ports?: string[];
    depends_on?: Record<string, { condition: string }> | string[];
    stop_grace_period?: string;
    healthcheck?: unknown;
    command?: string[];
  };
  const load = (path: string) =>
    parseYaml(read(path), { merge: true }) as { services: Record<string, Service>; volumes?: object };
  const scaled = load('deploy/compose/docker-compose.yml');
  const single = load('deploy/compose/docker-compose.sqlite.yml');
  const hubs = (file: { services: Record<string, Service> }) =>
    Object.entries(file.services).filter(([name]) => name.startsWith('hub'));
  /** `${VAR:-default}` replaced by its default, `${VAR:?msg}` by a sample value, as compose would with a filled .env. */
  const substitute = (value: string) =>
    value.replace(/\$\{([A-Z_]+)(?::([-?])([^}]*))?\}/g, (_m, name: string, kind?: string, rest?: string) => {
      if (kind === '-') return rest ?? '';
      // Required variables: what a filled-in .env would hold.
      return name === 'AIHUB_SECRET_KEY' ? 'ab'.repeat(32) : 'a-long-password';
    });

  it('runs two hub instances and a reverse proxy that balances over both, checking /ready', async () => {
    expect(hubs(scaled).map(([name]) => name)).toEqual(['hub-1', 'hub-2']);
    const caddy = read('deploy/compose/Caddyfile');
    for (const [name, service] of hubs(scaled))
      expect(caddy).toContain(`${name}:${service.environment?.PORT ?? '3000'}`);
    const healthPath = /health_uri (\S+)/.exec(caddy)?.[1];
    expect(healthPath).toBe('/ready');
    expect((await fetch(`${app.url}${healthPath}`)).status).toBe(200);
    const published = (scaled.services.proxy?.ports ?? [])[0] as string;
    expect(caddy).toContain(`:${published.split(':').pop()}`);
  });

  it('gives every hub only variables AI Hub reads, with values it accepts', () => {
    for (const file of [scaled, single])
      for (const [name, service] of hubs(file)) {
        const env = Object.fromEntries(
          Object.entries(service.environment ?? {}).map(([k, v]) => [k, substitute(String(v))]),
        );
        for (const key of Object.keys(env)) expect(KNOWN_VARIABLES, `${name}: ${key}`).toContain(key);
        expect(() => loadConfig(env), name).not.toThrow();
      }
  });

  it('points the hubs at the compose PostgreSQL and Redis, waits for them, and shares one secret key', () => {
    const postgres = scaled.services.postgres?.environment ?? {};
    for (const [, hub] of hubs(scaled)) {
      const env = hub.environment ?? {};
      const db = new URL(substitute(env.DATABASE_URL as string));
      expect(db.hostname).toBe('postgres');
      expect(db.username).toBe(postgres.POSTGRES_USER);
      expect(db.pathname).toBe(`/${postgres.POSTGRES_DB}`);
      expect(env.DATABASE_URL).toContain('${POSTGRES_PASSWORD');
      expect(new URL(env.REDIS_URL as string).hostname).toBe('redis');
      // Required, never a literal: every instance must encrypt and sign with the same key.
      expect(env.AIHUB_SECRET_KEY).toMatch(/^\$\{AIHUB_SECRET_KEY:\?/);
      expect(hub.depends_on).toMatchObject({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
    }
    expect(scaled.services.postgres?.healthcheck).toBeDefined();
    expect(scaled.services.redis?.healthcheck).toBeDefined();
  });

  it('gives each hub longer to stop than its shutdown timeout, so a stop drains and flushes', () => {
    for (const file of [scaled, single])
      for (const [, hub] of hubs(file)) {
        const timeoutMs = Number(hub.environment?.AIHUB_SHUTDOWN_TIMEOUT_MS ?? 30_000);
        expect(Number.parseInt(hub.stop_grace_period ?? '10s', 10) * 1000).toBeGreaterThan(timeoutMs);
      }
  });

  it('publishes the single-instance hub on the port it listens on', () => {
    const [, hub] = hubs(single)[0] as [string, Service];
    const containerPort = String(hub.ports?.[0]).split(':').pop();
    expect(containerPort).toBe(hub.environment?.PORT);
  });

  it('has an .env template naming every variable the compose files ask for', () => {
    const template = read('deploy/compose/.env.example');
    const asked = new Set<string>();
    for (const path of ['deploy/compose/docker-compose.yml', 'deploy/compose/docker-compose.sqlite.yml'])
      for (const match of read(path).matchAll(/\$\{([A-Z_]+)/g)) asked.add(match[1] as string);
    for (const name of asked) expect(template, name).toMatch(new RegExp(`^${name}=`, 'm'));
  });
});
