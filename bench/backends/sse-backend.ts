/**
 * The streaming benchmark's backend: an OpenAI-compatible `POST /v1/chat/completions` that streams
 * tokens at a fixed rate, plus the vLLM look-alike's `/v1/models`, `/metrics` and `/health`
 * (fake-vllm.ts) so meshd's gpu role scrapes it as a vLLM runtime.
 *
 *   node bench/backends/sse-backend.ts --port 8000 [--tokens 200] [--rate 7]
 *
 * A streamed request (`"stream": true`) gets `data: {chat.completion.chunk}` events: the first
 * token at once, then one every 1/rate s, `max_tokens` of them (or `--tokens` when the request
 * has none), a finish chunk, then `data: [DONE]`. A request without `stream` gets the fixed ~1 KB
 * chat.completion. Listens with SO_REUSEPORT, so several processes on one port share the streams
 * and the backend is never the bottleneck. Stops when its stdin closes or on SIGTERM/SIGINT.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { chatCompletionJson, chunkEvent, DONE_EVENT, metricsText, modelsJson } from '../lib/fake-vllm.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    tokens: { type: 'string', default: '200' },
    rate: { type: 'string', default: '7' },
  },
});
const defaultTokens = Number(values.tokens);
const intervalMs = 1000 / Number(values.rate);
const completion = chatCompletionJson();
const models = modelsJson();
const metrics = metricsText();
let streamsStarted = 0;

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function send(res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Streams `tokens` tokens at the fixed rate; stops early when the client goes away. */
function stream(res: ServerResponse, tokens: number): void {
  const id = `chatcmpl-${process.pid}-${++streamsStarted}`;
  const token = chunkEvent(id, ' tok');
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(token);
  let sent = 1;
  const finish = () => {
    clearInterval(timer);
    res.end(chunkEvent(id, '', 'stop') + DONE_EVENT);
  };
  const timer = setInterval(() => {
    if (sent >= tokens) return finish();
    res.write(token);
    sent++;
  }, intervalMs);
  if (tokens <= 1) finish();
  res.on('close', () => clearInterval(timer));
}

const server = createServer((req, res) => {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && path === '/v1/models') return send(res, 'application/json', models);
  if (req.method === 'GET' && path === '/metrics') return send(res, 'text/plain; version=0.0.4', metrics);
  if (req.method === 'GET' && path === '/health') return send(res, 'text/plain', '');
  if (req.method !== 'POST' || path !== '/v1/chat/completions') {
    res.writeHead(404).end();
    return;
  }
  readJson(req).then(
    (body) => {
      if (body.stream !== true) return send(res, 'application/json', completion);
      const max = Number(body.max_tokens);
      stream(res, Number.isInteger(max) && max > 0 ? max : defaultTokens);
    },
    () => res.destroy(),
  );
});
server.keepAliveTimeout = 300_000;
// Thousands of concurrent streams: no idle or request timeouts may cut them.
server.requestTimeout = 0;
server.headersTimeout = 60_000;
server.maxConnections = Infinity;

server.listen({ port: Number(values.port), host: '127.0.0.1', reusePort: true, backlog: 65535 }, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`sse-backend listening on http://127.0.0.1:${port}\n`);
});

const stop = () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The parent holds our stdin open; EOF means it is gone (even after a SIGKILL), so stop too.
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
