/**
 * A node's TLS for everything it serves and dials (`security.tls`): one cert reloader, and from it
 * the options each link needs. Client options read the reloader at every new connection (a getter,
 * which `http2.connect` and `https.request` read when they copy the options), so renewed or rotated
 * files are used by the next session without a restart, while open ones keep going.
 *
 * A node dialling another checks two things: the chain (the bundle, through the secure context)
 * and the identity: `spiffe://<td>/node/<id>` when it knows which node it dials, any node of the
 * trust domain when it knows only a URL. Host names are not checked: a mesh identity is its
 * SPIFFE ID, not an address (a node behind NAT, or known by several names, keeps it).
 */
import type { PeerCertificate, SecureContext } from 'node:tls';
import { MeshError } from '../../core/errors.ts';
import { createCertReloader, type CertState } from './cert-reloader.ts';
import { verifyPeer, type PeerIdentity, type TlsPeer } from './verify-peer.ts';

/** Options of `createLinkTls`: `security.tls`'s files and trust domain. */
export interface LinkTlsOptions {
  certFile: string;
  keyFile: string;
  caFile: string;
  trustDomain: string;
  /** A changed set of files stayed unusable (the old one stays in use). */
  onError?: (err: Error) => void;
  /** Re-read period of the files in ms (default 10 s). */
  pollMs?: number;
}

/**
 * What a node link's client passes to `http2.connect` (Http2SessionManager's third argument) or
 * `https.request` (a Connect transport's `nodeOptions`).
 */
export interface LinkClientOptions {
  readonly secureContext: SecureContext;
  rejectUnauthorized: true;
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
}

/** A node's TLS, shared by its API port and every link it dials. */
export interface LinkTls {
  readonly trustDomain: string;
  /** The certificate, key and bundle in use now. */
  current(): CertState;
  /** Calls `fn` after every reload (a renewed certificate, a new bundle); returns the unsubscribe. */
  onChange(fn: (state: CertState) => void): () => void;
  /** Client options for a link to node `expectedNodeId`, or to any node of the trust domain. */
  clientOptions(expectedNodeId?: string): LinkClientOptions;
  /** A client certificate as a server's TLS layer saw it → the identity, or MeshError `unauthenticated`. */
  verifyClient(peer: TlsPeer): PeerIdentity;
  /** Reads the files now (tests, or after an in-process renewal); resolves true when a new set was taken. */
  reload(): Promise<boolean>;
  close(): void;
}

/** Loads the node's certificate (throws when the files are not a working set) and keeps it current. */
export async function createLinkTls(options: LinkTlsOptions): Promise<LinkTls> {
  const { trustDomain } = options;
  const listeners = new Set<(state: CertState) => void>();
  const reloader = await createCertReloader({
    certFile: options.certFile,
    keyFile: options.keyFile,
    caFile: options.caFile,
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    onChange: (state) => {
      for (const fn of listeners) fn(state);
    },
    ...(options.onError ? { onError: options.onError } : {}),
  });

  return {
    trustDomain,
    current: () => reloader.current(),
    onChange(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    clientOptions(expectedNodeId) {
      // Not formatSpiffeId: an id it would refuse must fail the handshake, not the caller.
      const expectedSpiffeId =
        expectedNodeId !== undefined ? `spiffe://${trustDomain}/node/${expectedNodeId}` : undefined;
      return {
        get secureContext() {
          return reloader.current().secureContext;
        },
        rejectUnauthorized: true,
        // Replaces the host name check (see above); synchronous, as Node requires here.
        checkServerIdentity: (_host, cert) => {
          try {
            verifyPeer(cert, {
              bundle: reloader.current().options.ca,
              trustDomain,
              allowedKinds: ['node'],
              ...(expectedSpiffeId ? { expectedSpiffeId } : {}),
            });
            return undefined;
          } catch (err) {
            return MeshError.from(err);
          }
        },
      };
    },
    verifyClient: (peer) => verifyPeer(peer, { bundle: reloader.current().options.ca, trustDomain }),
    reload: () => reloader.reload(),
    close() {
      listeners.clear();
      reloader.close();
    },
  };
}
