/**
 * Who is calling: from a bearer JWT, a verified client certificate, or (by explicit consent) a
 * credential-less local caller. With no authentication configured every caller is the anonymous
 * admin, which meshd allows only on a loopback API or with `security.insecure`.
 */
import type { AuthConfig } from '../../core/config-auth.ts';
import { MeshError } from '../../core/errors.ts';
import { createJwtVerifier, type JwtVerifier } from './jwt.ts';
import { isLoopbackHost } from '../../core/listen.ts';
import { principalFromPeer, type PeerInfo, type PeerVerifier } from './peer.ts';
import { ANONYMOUS_ADMIN, LOOPBACK_ADMIN, type Principal } from './roles.ts';

/** Options of `createAuthenticator`. */
export interface AuthenticatorOptions {
  config: AuthConfig;
  /** Client-certificate verification (the PKI code's), where the API port speaks TLS. */
  verifyPeer?: PeerVerifier;
}

/** Turns a call's credentials into a principal. */
export interface Authenticator {
  /** False when nothing is configured: every caller is the anonymous admin. */
  readonly enabled: boolean;
  /** The caller; throws `unauthenticated` with the reason, or `unavailable` when the JWKS URL is down. */
  authenticate(authorization: string | null, peer: PeerInfo): Promise<Principal>;
}

/**
 * An authenticator for `security.auth` and, where the API port serves TLS, client certificates.
 * With TLS on, every caller must prove who it is, JWT configured or not: a certificate of the
 * mesh CA, or a token.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const { config, verifyPeer } = options;
  const jwt: JwtVerifier | undefined = config.jwt ? createJwtVerifier(config.jwt) : undefined;
  const enabled = jwt !== undefined || verifyPeer !== undefined;
  return {
    enabled,
    async authenticate(authorization, peer) {
      if (!enabled) return ANONYMOUS_ADMIN;
      // A certificate that is presented must verify, token or not: a connection TLS refused (another
      // CA, expired) gets nothing, rather than the benefit of whatever token rides along.
      let fromCertificate: Principal | undefined;
      if (verifyPeer && peer.certificate && Object.keys(peer.certificate).length > 0) {
        try {
          fromCertificate = principalFromPeer(await verifyPeer(peer.certificate, peer));
        } catch (err) {
          throw unauthenticated(`client certificate refused: ${(err as Error).message}`);
        }
      }
      // A bearer token wins over the connection's certificate: a node forwarding a person's call
      // sends the person's token, and the target checks the person's role.
      if (authorization !== null) {
        const token = /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
        if (token === undefined) throw unauthenticated('the Authorization header is not "Bearer <token>"');
        if (!jwt)
          throw unauthenticated('bearer tokens are not accepted: security.auth.jwt is not configured');
        return jwt.verify(token);
      }
      if (fromCertificate) return fromCertificate;
      if (config.allowUnauthenticatedLoopback && isLoopbackHost(peer.remoteAddress ?? ''))
        return LOOPBACK_ADMIN;
      throw unauthenticated(
        verifyPeer && !jwt
          ? 'no credentials: present a client certificate of the mesh CA (mesh --cert/--key)'
          : verifyPeer
            ? 'no credentials: send Authorization: Bearer <token> (mesh --token, $MESH_TOKEN) or a client certificate'
            : 'no credentials: send Authorization: Bearer <token> (mesh --token, $MESH_TOKEN)',
      );
    },
  };
}

function unauthenticated(reason: string): MeshError {
  return new MeshError('unauthenticated', reason, { reason });
}
