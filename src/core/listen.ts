/**
 * Starting and stopping the project's servers the same way everywhere: listen on host:port (port 0
 * picks a free one), report a URL a client on this machine can use, name the config key when the
 * address is taken, and close with open keep-alive and streaming connections ended so a stopping
 * daemon never waits on a client.
 */
import type { Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { MeshError } from './errors.ts';

export interface Listening {
  /** `http://host:port`; a wildcard host is reported as loopback, IPv6 in brackets. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface ListenOptions {
  host: string;
  port: number;
  /** Kernel accept queue length (Node's default is 511). */
  backlog?: number;
  /** Let other sockets (the node's other workers) bind the same port: SO_REUSEPORT. */
  reusePort?: boolean;
  /** The config key that set this address (`router.listen`), named when binding fails. */
  configKey?: string;
}

/** Binds `server` as `options` say; resolves with the URL and real port once it listens. */
export async function bind(
  server: NetServer,
  options: ListenOptions,
): Promise<{ url: string; port: number }> {
  // Where the kernel's ephemeral range reaches below 10081 it can hand out a port that browsers and
  // fetch() refuse to connect to ("bad port"). Such a pick is held by a placeholder, so the kernel
  // picks another, and given back once the server has a good one.
  const held: NetServer[] = [];
  try {
    for (let attempt = 1; ; attempt++) {
      await listenOnce(server, options);
      const bound = (server.address() as AddressInfo).port;
      if (options.port !== 0 || !FETCH_BLOCKED_PORTS.has(bound) || attempt === 5) {
        return { url: `http://${urlHost(options.host)}:${bound}`, port: bound };
      }
      await closeServer(server);
      const placeholder = createServer();
      held.push(placeholder);
      await listenOnce(placeholder, { host: options.host, port: bound }).catch(() => undefined);
    }
  } finally {
    await Promise.all(held.filter((h) => h.listening).map(closeServer));
  }
}

/** The ports above 1023 that the Fetch standard blocks (https://fetch.spec.whatwg.org/#bad-port). */
export const FETCH_BLOCKED_PORTS: ReadonlySet<number> = new Set([
  1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697,
  10080,
]);

function listenOnce(server: NetServer, options: ListenOptions): Promise<void> {
  const { host, port } = options;
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(bindError(err, options));
    server.once('error', onError);
    server.listen({ host, port, backlog: options.backlog, reusePort: options.reusePort }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** `bind`, plus a `close` that ends open connections instead of waiting for them. */
export async function listen(server: NetServer, options: ListenOptions): Promise<Listening> {
  const { url, port } = await bind(server, options);
  return {
    url,
    port,
    async close() {
      const closed = closeServer(server);
      if (isHttpServer(server)) server.closeAllConnections();
      await closed;
    },
  };
}

/** A failed bind as a config problem when it is one: the address is taken or cannot be had. */
function bindError(err: NodeJS.ErrnoException, options: ListenOptions): MeshError {
  const key = options.configKey ?? 'listen';
  const address = `${options.host}:${options.port}`;
  if (err.code === 'EADDRINUSE') {
    return new MeshError(
      'invalid_config',
      `${key}: ${address} is already in use; set ${key}.port to a free port`,
      {
        path: key,
      },
    );
  }
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES' || err.code === 'ENOTFOUND') {
    return new MeshError('invalid_config', `${key}: cannot listen on ${address} (${err.code})`, {
      path: key,
    });
  }
  return MeshError.from(err);
}

function closeServer(server: NetServer): Promise<void> {
  return new Promise<void>((resolve) => server.close(() => resolve()));
}

function isHttpServer(server: NetServer): server is HttpServer {
  return typeof (server as HttpServer).closeAllConnections === 'function';
}

/** A host usable in a URL: wildcards become loopback, IPv6 literals get brackets. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** True for a loopback host: 127.0.0.0/8, ::1 (also IPv4-mapped, bracketed) and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
