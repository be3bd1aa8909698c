/**
 * The upstream connection layer: one undici Pool per endpoint origin, created on first use.
 * `pipelining: 1` because inference responses are long streams: a second request must never queue
 * behind a stream on the same socket. Base URLs are parsed once, not per request. The retry and
 * relay around one dispatch live in `forward.ts` and `upstream-attempt.ts`.
 */
import { Pool } from 'undici';

/** TLS to runtimes reached over https. */
export interface RuntimeTls {
  /** Roots to trust (PEM); Node's public roots when absent. */
  ca?: string[];
  /** False only with `security.tls.insecureSkipRuntimeVerify` (self-signed runtimes). */
  rejectUnauthorized: boolean;
}

export interface UpstreamOptions {
  /** Most connections per endpoint origin (each carries one request at a time). */
  connections: number;
  /** For https origins; absent: undici's defaults (Node's public roots, verified). */
  tls?: RuntimeTls;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

export interface Upstreams {
  /** The pool for an endpoint's base URL. */
  pool(baseUrl: string): Pool;
  /** `path` under the base URL's own path prefix (`http://h/prefix` + `/v1/...`). */
  path(baseUrl: string, path: string): string;
  close(): Promise<void>;
}

interface Upstream {
  pool: Pool;
  prefix: string;
}

export function createUpstreams(options: UpstreamOptions): Upstreams {
  const pools = new Map<string, Pool>();
  const byBaseUrl = new Map<string, Upstream>();
  const upstream = (baseUrl: string): Upstream => {
    let up = byBaseUrl.get(baseUrl);
    if (up) return up;
    const url = new URL(baseUrl);
    let pool = pools.get(url.origin);
    if (!pool) {
      pool = new Pool(url.origin, {
        connections: options.connections,
        pipelining: 1,
        headersTimeout: options.headersTimeoutMs,
        bodyTimeout: options.bodyTimeoutMs,
        keepAliveTimeout: 30_000,
        ...(options.tls && url.protocol === 'https:' ? { connect: { ...options.tls } } : {}),
      });
      pools.set(url.origin, pool);
    }
    up = { pool, prefix: url.pathname.replace(/\/+$/, '') };
    byBaseUrl.set(baseUrl, up);
    return up;
  };
  return {
    pool: (baseUrl) => upstream(baseUrl).pool,
    path: (baseUrl, path) => {
      const { prefix } = upstream(baseUrl);
      return prefix === '' ? path : `${prefix}${path}`;
    },
    async close() {
      const all = [...pools.values()];
      pools.clear();
      byBaseUrl.clear();
      await Promise.all(all.map((p) => p.destroy().catch(() => undefined)));
    },
  };
}
