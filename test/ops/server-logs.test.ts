import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, ROOT } from '../support/processes.js';

const MASTER_KEY = 'mk-test-master-key-0123456789';

interface Server {
  base: string;
  port: number;
  output: () => string;
  stop: () => Promise<void>;
}

/** `aihub start` in a child (SQLite in a temp dir, the demo mock models, a fake console build). */
async function startServer(format: 'json' | 'pretty'): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'aihub-logs-'));
  const web = join(dir, 'web');
  mkdirSync(join(web, 'assets'), { recursive: true });
  writeFileSync(join(web, 'index.html'), '<!doctype html><script src="/assets/app-1.js"></script>');
  writeFileSync(join(web, 'assets', 'app-1.js'), 'console.log(1)');
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(TEST_|AIHUB_)/.test(name) && !['DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST'].includes(name))
      env[name] = value;
  }
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'start'], {
    cwd: ROOT,
    env: {
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
      AIHUB_DATA_DIR: join(dir, 'data'),
      AIHUB_WEB_DIR: web,
      AIHUB_MASTER_KEY: MASTER_KEY,
      AIHUB_LOG_LEVEL: 'info',
      AIHUB_LOG_FORMAT: format,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 40_000; // tsx compiles the server on start: slow on a busy machine
  while (Date.now() < deadline && child.exitCode === null && !output.includes('listening on')) {
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(output).toContain('listening on');
  return {
    base,
    port,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function chat(base: string): Promise<Response> {
  return fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hello there' }] }),
  });
}

/** Lines are flushed by the child asynchronously: wait until `done` holds for the output. */
async function until(server: Server, done: (output: string) => boolean): Promise<string> {
  const deadline = Date.now() + 5_000;
  while (!done(server.output()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return server.output();
}

describe('server log output (JSON when not a terminal)', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer('json');
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('says where it listens, logs one line per /v1 request and none at info for console assets', async () => {
    const lines = () =>
      server
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines().some((l) => l.msg === `AI Hub listening on http://127.0.0.1:${server.port}`)).toBe(true);

    const res = await chat(server.base);
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id');
    const body = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
    const models = await fetch(`${server.base}/v1/models`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
    expect(models.status).toBe(200);
    expect((await chat(server.base)).status).toBe(200);
    const denied = await fetch(`${server.base}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer wrong-key', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-gpt', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(denied.status).toBe(401);
    expect((await fetch(`${server.base}/assets/app-1.js`)).status).toBe(200);
    expect((await fetch(`${server.base}/dashboard`)).status).toBe(200);
    expect((await fetch(`${server.base}/api/settings/public`)).status).toBe(200);

    await until(server, (out) => out.includes('/api/settings/public'));
    const v1 = lines().filter((l) => typeof l.path === 'string' && (l.path as string).startsWith('/v1/'));
    const forChat = v1.filter((l) => l.reqId === requestId);
    expect(forChat).toHaveLength(1);
    expect(forChat[0]).toMatchObject({
      level: 30,
      method: 'POST',
      path: '/v1/chat/completions',
      model: 'mock-gpt',
      status: 200,
      promptTokens: body.usage.prompt_tokens,
      completionTokens: body.usage.completion_tokens,
    });
    expect(typeof forChat[0]?.ms).toBe('number');
    // Two chats, one refused (a wrong key), the model list: one line each.
    expect(v1.map((l) => `${l.method} ${l.path} ${l.status}`).sort()).toEqual([
      'GET /v1/models 200',
      'POST /v1/chat/completions 200',
      'POST /v1/chat/completions 200',
      'POST /v1/chat/completions 401',
    ]);
    const all = server.output();
    expect(all).not.toContain('/assets/app-1.js');
    expect(all).not.toContain('/dashboard');
    expect(lines().filter((l) => l.url === '/api/settings/public')).toHaveLength(1);
  }, 30_000);
});

describe('server log output (pretty when forced)', () => {
  it('writes lines for people instead of JSON', async () => {
    const server = await startServer('pretty');
    try {
      expect((await chat(server.base)).status).toBe(200);
      const out = await until(server, (o) => o.includes('POST /v1/chat/completions 200 mock-gpt'));
      expect(out).toContain(`AI Hub listening on http://127.0.0.1:${server.port}`);
      expect(out).toMatch(/POST \/v1\/chat\/completions 200 mock-gpt \d+\+\d+ tokens \d+ ms/);
      expect(out.split('\n').filter((l) => l.startsWith('{"level"'))).toEqual([]);
    } finally {
      await server.stop();
    }
  }, 60_000);
});
