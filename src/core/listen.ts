/**
 * Starting and stopping the project's HTTP servers the same way everywhere: listen on host:port
 * (port 0 picks a free one), report a URL a client on this machine can use, and close with open
 * keep-alive and streaming connections ended so a stopping daemon never waits on a client.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  /** `http://host:port`; a wildcard host is reported as loopback, IPv6 in brackets. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function listen(server: Server, host: string, port: number): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${urlHost(host)}:${bound}`,
    port: bound,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
