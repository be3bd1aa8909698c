/**
 * Run by listen.test.ts inside a fresh network namespace whose ephemeral range is narrowed onto a
 * fetch-blocked port: binds an HTTP server on port 0, fetches from it, prints `port status`.
 */
import { createServer } from 'node:http';
import { listen } from '../listen.ts';

const server = createServer((_req, res) => res.end('ok'));
const served = await listen(server, { host: '127.0.0.1', port: 0 });
const status = await fetch(served.url).then(
  (res) => String(res.status),
  (err: Error) => `${err.message}: ${String((err.cause as Error | undefined)?.message)}`,
);
console.log(`${served.port} ${status}`);
await served.close();
