/**
 * The upstream connection layer: one undici Pool per endpoint base URL, created on first use.
 * `pipelining: 1` because inference responses are long streams: a second request must never queue
 * behind a stream on the same socket. Dispatch wrappers (retry, timeouts) live in `forward.ts`.
 */
import { Pool } from 'undici';

export interface UpstreamOptions {
  connections: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

export interface Upstreams {
  pool(baseUrl: string): Pool;
  /** Closes pools of endpoints that are gone; idle pools cost sockets. */
  retain(baseUrls: Iterable<string>): void;
  close(): Promise<void>;
}

export function createUpstreams(options: UpstreamOptions): Upstreams {
  const pools = new Map<string, Pool>();
  return {
    pool(baseUrl) {
      const origin = new URL(baseUrl).origin;
      let pool = pools.get(origin);
      if (!pool) {
        pool = new Pool(origin, {
          connections: options.connections,
          pipelining: 1,
          headersTimeout: options.headersTimeoutMs,
          bodyTimeout: options.bodyTimeoutMs,
          keepAliveTimeout: 30_000,
        });
        pools.set(origin, pool);
      }
      return pool;
    },
    retain(baseUrls) {
      const keep = new Set([...baseUrls].map((u) => new URL(u).origin));
      for (const [origin, pool] of pools) {
        if (keep.has(origin)) continue;
        pools.delete(origin);
        void pool.close().catch(() => undefined);
      }
    },
    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.destroy().catch(() => undefined)));
    },
  };
}
