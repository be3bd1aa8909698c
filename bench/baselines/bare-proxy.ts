/**
 * The bare proxy the router is measured against: a `node:http` server in, an undici Pool out, the
 * request body and the answer relayed as they are, and nothing else (no parsing, no routing, no
 * metrics, no logs). What a Node reverse proxy costs at the least; meshd's own work is the rest.
 *
 *   node bench/baselines/bare-proxy.ts --port 8081 --upstream http://127.0.0.1:8000
 *
 * Listens with SO_REUSEPORT, so several processes on one port share the load (the 4-core row).
 * Stops when its stdin closes (the benchmark that started it went away) or on SIGTERM/SIGINT.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    upstream: { type: 'string' },
    connections: { type: 'string', default: '1024' },
  },
});
if (!values.upstream) throw new Error('--upstream URL is required');

const pool = new Pool(values.upstream, {
  connections: Number(values.connections),
  pipelining: 1,
  keepAliveTimeout: 300_000,
});

/** The request body, whole (inference requests are small; the router reads them whole too). */
async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

const server = createServer((req, res) => {
  const relay = async () => {
    const body = await readBody(req);
    const upstream = await pool.request({
      method: req.method as 'POST',
      path: req.url ?? '/',
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
      body,
    });
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'content-length', 'cache-control']) {
      const value = upstream.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    res.writeHead(upstream.statusCode, headers);
    await pipeline(upstream.body, res);
  };
  relay().catch(() => {
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  });
});
server.keepAliveTimeout = 300_000;

server.listen({ port: Number(values.port), host: '127.0.0.1', reusePort: true, backlog: 65535 }, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`bare-proxy listening on http://127.0.0.1:${port}\n`);
});

const stop = () => {
  server.close();
  void pool.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
