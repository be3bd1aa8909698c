/**
 * The identity and role layer of mTLS: who is the peer, and may it do this? Node's TLS stack
 * checks the chain during the handshake (`ca` = the trust bundle, `requestCert`,
 * `rejectUnauthorized`); `verifyPeer` checks it again where it has the chain, then reads the
 * SPIFFE ID and roles and refuses with a MeshError whose message says why. Synchronous, so it also
 * fits `checkServerIdentity` on the client side.
 */
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';
import { MeshError } from '../../core/errors.ts';
import { parseSpiffeId, ROLES_BY_KIND, type IdentityKind, type IdentityRole } from './spiffe.ts';
import { x509 } from './x509.ts';

/** What the peer proved it is. */
export interface PeerIdentity {
  spiffeId: string;
  kind: IdentityKind;
  /** Node id or admin name. */
  id: string;
  roles: IdentityRole[];
  serial: string;
  notAfter: Date;
}

/** What to check the peer against. */
export interface VerifyPeerOptions {
  /** The trust bundle: PEM text of the root certificates (bundle.pem), or them parsed. */
  bundle: string | readonly X509Certificate[];
  trustDomain: string;
  /** The peer must hold at least one of these roles; any role when absent. */
  allowedRoles?: readonly IdentityRole[];
  /** The peer must be of one of these kinds; any when absent. */
  allowedKinds?: readonly IdentityKind[];
  /** A client dialling a known node passes its SPIFFE ID: another node's certificate is refused. */
  expectedSpiffeId?: string;
  /** Time of the check (default now). */
  now?: Date;
}

/**
 * A TLS connection's verdict, as a server hands it on after the handshake (an HTTP/2 request sees
 * its socket only through a proxy): the client's leaf and whether Node's TLS stack verified it
 * against the bundle. A server never sees the client's intermediate, so it cannot check the chain
 * again itself.
 */
export interface TlsPeer {
  tlsCertificate: PeerCertificate;
  authorized: boolean;
  authorizationError?: Error | string | null;
}

/** Where a peer's certificates come from. */
export type PeerInput =
  string | X509Certificate | readonly X509Certificate[] | PeerCertificate | TLSSocket | TlsPeer;

/** Chains longer than leaf + intermediate + root (+ one spare) are refused: the mesh makes none. */
const MAX_CHAIN = 4;

const fail = (message: string, details: Record<string, unknown> = {}): never => {
  throw new MeshError('unauthenticated', message, details);
};

/** The PEM certificates of a text, as Node X509 objects. */
export function parseBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

/** The certificates offered, leaf first; `fromTls` when Node's TLS stack has verified the chain. */
function peerChain(input: PeerInput): { chain: X509Certificate[]; fromTls: boolean } {
  if (typeof input === 'string') return { chain: parseBundle(input), fromTls: false };
  if (input instanceof X509Certificate) return { chain: walkX509(input), fromTls: false };
  if (Array.isArray(input)) return { chain: [...(input as X509Certificate[])], fromTls: false };
  if ('getPeerX509Certificate' in input || 'tlsCertificate' in input) {
    // getPeerCertificate, not getPeerX509Certificate: the latter answers only once per socket on
    // the client side (Node 24), and a second reader (logging, RBAC) would see "no certificate".
    const peer: TlsPeer =
      'tlsCertificate' in input
        ? input
        : {
            tlsCertificate: input.getPeerCertificate(true),
            authorized: input.authorized,
            authorizationError: input.authorizationError,
          };
    const leaf = peer.tlsCertificate;
    if (!leaf?.raw) fail('the peer sent no certificate (mTLS needs a client certificate)');
    if (!peer.authorized)
      fail(`the peer's certificate was refused by TLS: ${String(peer.authorizationError)}`, {
        reason: String(peer.authorizationError),
      });
    // A server sees only the leaf (Node exposes no client chain); TLS verified it against `ca`.
    return { chain: walkPeerCertificate(leaf), fromTls: true };
  }
  return { chain: walkPeerCertificate(input as PeerCertificate), fromTls: false };
}

function walkX509(leaf: X509Certificate): X509Certificate[] {
  const chain = [leaf];
  for (let c = leaf.issuerCertificate; c && chain.length < MAX_CHAIN + 1; c = c.issuerCertificate) {
    const seen = c.fingerprint256;
    if (chain.some((x) => x.fingerprint256 === seen)) break;
    chain.push(c);
  }
  return chain;
}

function walkPeerCertificate(leaf: PeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let c: DetailedPeerCertificate | undefined = leaf as DetailedPeerCertificate;
  while (c?.raw && chain.length <= MAX_CHAIN) {
    const x = new X509Certificate(c.raw);
    if (chain.some((y) => y.fingerprint256 === x.fingerprint256)) break;
    chain.push(x);
    c = c.issuerCertificate;
  }
  return chain;
}

function checkTime(cert: X509Certificate, now: Date, what: string): void {
  if (now < cert.validFromDate) fail(`${what} is not valid before ${cert.validFromDate.toISOString()}`);
  if (now > cert.validToDate)
    fail(`${what} expired at ${cert.validToDate.toISOString()}`, {
      expiredAt: cert.validToDate.toISOString(),
    });
}

/**
 * Checks that the chain leads to a root of the bundle: each certificate issued and signed by the
 * next, the intermediates CAs, all of them valid now.
 */
function checkChain(chain: X509Certificate[], roots: readonly X509Certificate[], now: Date): void {
  for (let i = 0; i < chain.length && i < MAX_CHAIN; i++) {
    const cert = chain[i]!;
    checkTime(
      cert,
      now,
      i === 0 ? "the peer's certificate" : `CA certificate "${cert.subject.replace(/\n/g, ', ')}"`,
    );
    const root = roots.find((r) => cert.checkIssued(r) && cert.verify(r.publicKey));
    if (root) return checkTime(root, now, 'the root CA certificate');
    const next = chain[i + 1];
    if (!next || !next.ca || !cert.checkIssued(next) || !cert.verify(next.publicKey)) break;
  }
  fail("the peer's certificate does not chain to a root of the trust bundle (another CA?)");
}

/**
 * Verifies a peer and returns its identity, or throws MeshError `unauthenticated` (no
 * certificate, another CA, expired, not a mesh SPIFFE ID, wrong trust domain) or
 * `permission_denied` (a valid identity without an allowed role or kind).
 */
export function verifyPeer(input: PeerInput, opts: VerifyPeerOptions): PeerIdentity {
  const now = opts.now ?? new Date();
  const { chain, fromTls } = peerChain(input);
  const leaf = chain[0] ?? fail('the peer sent no certificate (mTLS needs a client certificate)');
  if (leaf.ca) fail("the peer's certificate is a CA certificate, not a node or admin identity");
  const roots = typeof opts.bundle === 'string' ? parseBundle(opts.bundle) : opts.bundle;
  if (fromTls) checkTime(leaf, now, "the peer's certificate");
  else checkChain(chain, roots, now);

  const parsed = new x509.X509Certificate(leaf.raw);
  const san = parsed.getExtension(x509.SubjectAlternativeNameExtension);
  const uris = san?.names.items.filter((n) => n.type === 'url').map((n) => n.value) ?? [];
  if (uris.length !== 1)
    fail(`the peer's certificate has ${uris.length} URI SANs; a SPIFFE identity has exactly one`);
  const identity =
    parseSpiffeId(uris[0]!) ??
    fail(`"${uris[0]}" is not a mesh SPIFFE ID (spiffe://<domain>/node|admin/<id>)`);
  if (identity.trustDomain !== opts.trustDomain)
    fail(
      `the peer ${identity.spiffeId} belongs to trust domain "${identity.trustDomain}", not "${opts.trustDomain}"`,
    );
  if (opts.expectedSpiffeId && identity.spiffeId !== opts.expectedSpiffeId)
    fail(`the peer is ${identity.spiffeId}, not the expected ${opts.expectedSpiffeId}`);

  // Unknown role names are ignored rather than refused: they grant nothing, and a newer CA may add roles.
  const known = ROLES_BY_KIND[identity.kind];
  const roles = parsed.subjectName
    .getField('O')
    .filter((r): r is IdentityRole => known.includes(r as IdentityRole))
    .sort();
  if (opts.allowedKinds && !opts.allowedKinds.includes(identity.kind))
    throw new MeshError(
      'permission_denied',
      `${identity.spiffeId} is a ${identity.kind} identity; this needs ${opts.allowedKinds.join(' or ')}`,
    );
  if (opts.allowedRoles && !roles.some((r) => opts.allowedRoles!.includes(r)))
    throw new MeshError(
      'permission_denied',
      `${identity.spiffeId} has roles [${roles.join(', ')}]; this needs one of [${opts.allowedRoles.join(', ')}]`,
      { spiffeId: identity.spiffeId, roles },
    );
  return {
    spiffeId: identity.spiffeId,
    kind: identity.kind,
    id: identity.id,
    roles,
    serial: parsed.serialNumber,
    notAfter: leaf.validToDate,
  };
}
