/**
 * The HTTP plumbing every `fake-<runtime>-server.ts` shares: a real server on 127.0.0.1 port 0, a
 * route table the runtime's fake fills with that runtime's paths and bodies, and the failures a
 * scraper must survive, applied to the metrics path (or to everything, for `hang`):
 * `hang` (accept, never answer), `error500`, `truncate` (declared length not delivered, connection
 * dropped) and `garbage` (200 with an HTML page).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from '../../../core/listen.ts';

export type FakeMode = 'ok' | 'hang' | 'error500' | 'truncate' | 'garbage';

/** What a route answers. */
export interface FakeReply {
  status: number;
  body: string;
  type?: string;
}

export type FakeRoute = (req: IncomingMessage, body: string, url: URL) => FakeReply | undefined;

export interface FakeHttpServer {
  url: string;
  port: number;
  mode: FakeMode;
  /** Requests seen, as `METHOD path`. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

export const json = (status: number, value: unknown): FakeReply => ({
  status,
  body: JSON.stringify(value),
  type: 'application/json',
});
export const text = (status: number, body: string, type = 'text/plain; charset=utf-8'): FakeReply => ({
  status,
  body,
  type,
});

function send(res: ServerResponse, reply: FakeReply) {
  res.writeHead(reply.status, {
    'content-type': reply.type ?? 'text/plain',
    'content-length': Buffer.byteLength(reply.body),
  });
  res.end(reply.body);
}

/** Answers 200, declares more bytes than it sends, sends half of `body`, then drops the connection. */
export function sendTruncated(res: ServerResponse, body: string, type: string): void {
  const bytes = Buffer.from(body);
  res.writeHead(200, { 'content-type': type, 'content-length': bytes.length + 4096 });
  res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
  setTimeout(() => res.destroy(), 5);
}

/** Starts `server` on 127.0.0.1, port 0; `close` drops open connections (a `hang` request) first. */
export async function listenLocal(
  server: Server,
): Promise<{ url: string; port: number; close: () => Promise<void> }> {
  return listen(server, { host: '127.0.0.1', port: 0 });
}

/**
 * Starts a fake. `route` answers a request or returns undefined (→ `notFound`). `isMetrics` says
 * which paths the failure modes hit.
 */
export async function startFakeHttp(options: {
  route: FakeRoute;
  isMetrics: (path: string) => boolean;
  notFound?: FakeReply;
}): Promise<FakeHttpServer> {
  const notFound = options.notFound ?? text(404, 'Not Found');
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const key = `${req.method ?? 'GET'} ${url.pathname}`;
    fake.hits.set(key, (fake.hits.get(key) ?? 0) + 1);
    if (fake.mode === 'hang') return; // the socket stays open until close()
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      if (options.isMetrics(url.pathname) && fake.mode !== 'ok') {
        if (fake.mode === 'error500') return send(res, text(500, 'Internal Server Error'));
        if (fake.mode === 'garbage')
          return send(res, text(200, '<html><body><h1>502 Bad Gateway</h1></body></html>\n'));
        const reply = options.route(req, raw, url) ?? text(200, '# HELP x y\n');
        return sendTruncated(res, reply.body, reply.type ?? 'text/plain');
      }
      send(res, options.route(req, raw, url) ?? notFound);
    });
  });
  const fake: FakeHttpServer = { ...(await listenLocal(server)), mode: 'ok', hits: new Map() };
  return fake;
}
