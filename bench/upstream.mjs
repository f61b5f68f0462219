// A fast fake OpenAI upstream: pre-serialized JSON answer, and an SSE stream of 20 chunks + usage + [DONE].
import { createServer } from 'node:http';

const usage = { prompt_tokens: 12, completion_tokens: 20, total_tokens: 32 };
const JSON_ANSWER = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1,
    model: 'bench-upstream',
    choices: [{ index: 0, message: { role: 'assistant', content: 'word '.repeat(20).trim() }, finish_reason: 'stop' }],
    usage,
  }),
);
const chunk = (delta, finish = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'bench-upstream', choices: [{ index: 0, delta, finish_reason: finish }], usage: null })}\n\n`;
let sse = chunk({ role: 'assistant', content: '' });
for (let i = 0; i < 19; i++) sse += chunk({ content: 'word ' });
sse += chunk({}, 'stop');
sse += `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'bench-upstream', choices: [], usage })}\n\n`;
sse += 'data: [DONE]\n\n';
const SSE_ANSWER = Buffer.from(sse);

const server = createServer((req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    const stream = Buffer.concat(parts).includes('"stream":true');
    if (stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-length': SSE_ANSWER.length });
      res.end(SSE_ANSWER);
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': JSON_ANSWER.length });
      res.end(JSON_ANSWER);
    }
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.send?.({ port: server.address().port });
});
