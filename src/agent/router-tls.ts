/**
 * TLS on the client-facing router port (`security.tls.routerPort`): a certificate clients know
 * (often a public CA's), read from files and reloaded when they change. One reloader per process,
 * on the main thread, which posts the new PEM to the router worker threads: one watcher and one
 * moment of change for all of them, and no file I/O in the threads that relay traffic.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { MeshConfig } from '../core/config.ts';
import type { RuntimeTls } from '../data/upstreams.ts';
import type { RouterTls } from '../data/router-server.ts';
import type { Logger } from '../observability/log.ts';
import { createCertReloader } from '../security/pki/cert-reloader.ts';

/** The router port's certificate, kept current. */
export interface RouterTlsSource {
  current(): RouterTls;
  /** Calls `fn` with each new certificate; one subscriber (the router server or the worker pool). */
  onChange(fn: (tls: RouterTls) => void): void;
  stop(): void;
}

/** Loads `security.tls.routerPort` (throws when the files are not a working pair); undefined without it. */
export async function startRouterTls(
  config: MeshConfig,
  logger: Logger,
): Promise<RouterTlsSource | undefined> {
  const files = config.security.tls.routerPort;
  if (!files) return undefined;
  let listener: ((tls: RouterTls) => void) | undefined;
  const log = logger.child({ component: 'router-tls' });
  const pem = (o: { cert: string; key: string }): RouterTls => ({ cert: o.cert, key: o.key });
  const reloader = await createCertReloader({
    certFile: files.cert,
    keyFile: files.key,
    onChange: (state) => {
      log.info({ serial: state.serial, expiresAt: state.expiresAt }, 'router port certificate reloaded');
      listener?.(pem(state.options));
    },
    onError: (err) =>
      log.error({ err }, 'the changed router port certificate is unusable; keeping the old one'),
  });
  return {
    current: () => pem(reloader.current().options),
    onChange: (fn) => void (listener = fn),
    stop: () => reloader.close(),
  };
}

/**
 * TLS to runtimes with https URLs: Node's public roots plus the mesh's bundle (a runtime may hold a
 * certificate of the mesh CA), verified unless `insecureSkipRuntimeVerify`. Read once at start;
 * the bundle changes only with a CA rotation, which keeps the old root for a while anyway.
 */
export function runtimeTlsOf(config: MeshConfig): RuntimeTls {
  const tls = config.security.tls;
  const bundle = tls.ca === undefined ? [] : [readFileSync(tls.ca, 'utf8')];
  return {
    ...(bundle.length > 0 ? { ca: [...rootCertificates, ...bundle] } : {}),
    rejectUnauthorized: !tls.insecureSkipRuntimeVerify,
  };
}
