import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the fake does with the next request. */
export type Behaviour =
  | { kind: 'ok'; text?: string; delayMs?: number }
  | { kind: 'status'; status: number; retryAfter?: string; body?: unknown }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'stream-then-stall'; chunks: number };

/**
 * A tiny OpenAI-format upstream whose behaviour tests set per request, for routing and fault tests.
 * Answers chat completions (stream and not) and GET /models; counts what it received.
 */
export class ProgrammableUpstream {
  readonly requests: Array<{ path: string; auth: string | undefined; stream: boolean; body: string }> = [];
  #queue: Behaviour[] = [];
  #default: Behaviour = { kind: 'ok' };
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  url = '';

  /** Behaviour for every request not queued with `next`. */
  always(b: Behaviour): void {
    this.#default = b;
  }

  /** Behaviours for the next requests, in order. */
  next(...b: Behaviour[]): void {
    this.#queue.push(...b);
  }

  get chatCount(): number {
    return this.requests.filter((r) => r.path.endsWith('/chat/completions')).length;
  }

  async start(): Promise<this> {
    this.#server = createServer((req, res) => void this.handle(req, res));
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += chunk;
    const parsed = body ? (JSON.parse(body) as { stream?: boolean; model?: string }) : {};
    this.requests.push({ path: req.url ?? '', auth: req.headers.authorization, stream: parsed.stream === true, body });
    const b = this.#queue.shift() ?? this.#default;
    if (b.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (b.kind === 'hang') return;
    if (b.kind === 'status') {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (b.retryAfter) headers['retry-after'] = b.retryAfter;
      res
        .writeHead(b.status, headers)
        .end(
          JSON.stringify(
            b.body ?? { error: { message: `fake ${b.status}`, type: 'server_error', param: null, code: null } },
          ),
        );
      return;
    }
    const model = parsed.model ?? 'fake';
    if (b.kind === 'ok' && b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
    const text = b.kind === 'ok' ? (b.text ?? 'hello from fake') : 'partial answer';
    const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
    if (!parsed.stream) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'chatcmpl-fake',
          object: 'chat.completion',
          created: 1,
          model,
          choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
          usage,
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    if (b.kind === 'stream-then-stall') {
      for (let i = 0; i < b.chunks; i++) res.write(chunk({ content: `part${i} ` }));
      return; // never ends: the gateway's idle timeout must fire
    }
    res.write(chunk({ role: 'assistant', content: '' }));
    for (const word of text.split(' ')) res.write(chunk({ content: `${word} ` }));
    res.write(chunk({}, 'stop'));
    res.write(
      `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model, choices: [], usage })}\n\n`,
    );
    res.end('data: [DONE]\n\n');
  }
}
