/**
 * `security.tls` made real for one meshd: its certificate loaded and kept current (the one
 * `LinkTls` its API port, its links and its renewal share), and with `renew.caDir` its own renewal,
 * which writes the files the reloader watches.
 */
import { isIP } from 'node:net';
import type { MeshConfig } from '../core/config.ts';
import type { Logger } from '../observability/log.ts';
import { createLinkTls, type LinkTls } from '../security/pki/link-tls.ts';
import { startRenewal, type Renewal } from '../security/pki/renewal.ts';

/** The node's TLS and how to stop it. */
export interface NodeTls {
  link: LinkTls;
  renewal?: Renewal;
  stop(): void;
}

/** Starts the node's TLS, or returns undefined without `security.tls.cert`. */
export async function startNodeTls(config: MeshConfig, logger: Logger): Promise<NodeTls | undefined> {
  const tls = config.security.tls;
  if (tls.cert === undefined || tls.key === undefined || tls.ca === undefined) return undefined;
  const log = logger.child({ component: 'tls' });
  let renewal: Renewal | undefined;
  let link: LinkTls | undefined;
  if (tls.renew) {
    renewal = startRenewal({
      caDir: tls.renew.caDir,
      nodeId: config.node.id,
      roles: config.node.roles,
      certFile: tls.cert,
      keyFile: tls.key,
      renewAtFraction: tls.renew.renewAtFraction,
      hours: tls.renew.hours,
      // The CLI checks host names (the mesh's own links check SPIFFE IDs): name the API's address.
      dns: ['localhost'],
      ips: [...new Set(['127.0.0.1', ...(isSpecificIp(config.api.host) ? [config.api.host] : [])])],
      onRenew: (issued) => {
        log.info({ serial: issued.serial, notAfter: issued.notAfter }, 'node certificate renewed');
        void link?.reload();
      },
      onError: (err) => log.error({ err }, 'node certificate renewal failed'),
    });
    // The first check issues the files when they are missing; the reloader needs them.
    await renewal.check();
  }
  try {
    link = await createLinkTls({
      certFile: tls.cert,
      keyFile: tls.key,
      caFile: tls.ca,
      trustDomain: tls.trustDomain,
      onError: (err) =>
        log.error({ err }, 'the changed certificate files are unusable; keeping the old ones'),
    });
  } catch (err) {
    renewal?.stop();
    throw err;
  }
  link.onChange((state) =>
    log.info({ serial: state.serial, expiresAt: state.expiresAt }, 'node certificate reloaded'),
  );
  const running = link;
  return {
    link: running,
    ...(renewal ? { renewal } : {}),
    stop() {
      renewal?.stop();
      running.close();
    },
  };
}

const isSpecificIp = (host: string) => isIP(host) !== 0 && host !== '0.0.0.0' && host !== '::';
