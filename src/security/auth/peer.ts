/**
 * Callers identified by a verified client certificate (mTLS) rather than a token, and what the API
 * server tells the auth interceptor about the connection. The certificate is verified by the PKI
 * code (its `verifyPeer`); this file only maps the identity it yields to a `Principal`.
 */
import type { PeerCertificate } from 'node:tls';
import { createContextKey } from '@connectrpc/connect';
import { isRole, type Principal } from './roles.ts';

/** What a certificate verifier yields: the SPIFFE identity and the roles written in the certificate. */
export interface PeerIdentity {
  spiffeId: string;
  kind: 'node' | 'admin';
  id: string;
  roles: readonly string[];
}

/**
 * Checks a client certificate against the mesh CA; returns its identity, throws (any error) when
 * it is not acceptable. Supplied by the PKI code where TLS is wired; it gets the connection too,
 * for what the TLS handshake concluded (a server sees the client's leaf only, not its chain).
 */
export type PeerVerifier = (
  certificate: PeerCertificate,
  peer: PeerInfo,
) => PeerIdentity | Promise<PeerIdentity>;

/** The connection a call came in on, as far as authentication cares. */
export interface PeerInfo {
  /** The remote IP address, as the socket reports it. */
  remoteAddress?: string;
  /** The client certificate, on a TLS connection that received one. */
  certificate?: PeerCertificate;
  /** Whether the TLS handshake verified `certificate` against the trust bundle. */
  authorized?: boolean;
  /** Why it did not, when it did not. */
  authorizationError?: string;
}

/** Where the API server puts the `PeerInfo` of each call (Connect context values). */
export const PEER_INFO = createContextKey<PeerInfo>({}, { description: 'peer of the call' });

/**
 * A certificate identity as a principal. A router or edge node gets the node-callable RPCs (state
 * streams, in-flight sharing, scoring): what internal links need and nothing an operator does; a
 * node with neither role gets nothing. An admin identity gets the ladder roles its certificate names.
 */
export function principalFromPeer(identity: PeerIdentity): Principal {
  if (identity.kind === 'node') {
    // The internal links are the routers': a router (or edge) follows nodes' state, shares its
    // in-flight work; a node certificate with neither role gets nothing on the API port.
    const routes = identity.roles.includes('router') || identity.roles.includes('edge');
    return { name: identity.spiffeId, source: 'certificate', roles: [], node: routes };
  }
  return {
    name: identity.spiffeId,
    source: 'certificate',
    roles: identity.roles.filter(isRole),
    node: false,
  };
}
