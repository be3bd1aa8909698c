/**
 * Issuing a leaf certificate (an X.509-SVID) for a node or an admin identity, signed by the
 * intermediate CA.
 *
 * Identity: exactly one URI SAN, the SPIFFE ID, as the X509-SVID standard requires (a second URI
 * SAN for roles would make SPIFFE libraries such as go-spiffe reject the certificate).
 * Roles: one Subject `O` attribute each, the convention Kubernetes uses for a client
 * certificate's groups (`CN` = who, `O` = groups): standard ASN.1, shown by `openssl x509 -text`
 * and by Node's `getPeerCertificate().subject.O`, with no private OID to register.
 */
import { isIP } from 'node:net';
import { MeshError } from '../../core/errors.ts';
import { BACKDATE_MS, type CaKeyPair } from './ca.ts';
import { checkRoles, formatSpiffeId, type IdentityKind, type IdentityRole } from './spiffe.ts';
import { EC_ALGORITHM, exportKeyPem, generateKeyPair, randomSerial, x509 } from './x509.ts';

/** Default lifetime of a leaf certificate: short, so that a leaked key is worth little. */
export const DEFAULT_LEAF_HOURS = 24;
/** Subject alternative names of a leaf when none are given: a loopback mesh works out of the box. */
export const DEFAULT_DNS = ['localhost'];
export const DEFAULT_IPS = ['127.0.0.1'];

/** What a leaf certificate is for. */
export interface IssueOptions {
  trustDomain: string;
  kind: IdentityKind;
  /** Node id or admin name. */
  id: string;
  roles: readonly string[];
  dns?: readonly string[];
  ips?: readonly string[];
  /** Lifetime in hours (default 24); ignored when `notAfter` is given. */
  hours?: number;
  /** Start of validity (default: now less a minute of clock skew). */
  notBefore?: Date;
  /** End of validity; tests pass a past one to get an expired certificate. */
  notAfter?: Date;
}

/** An issued leaf: PEM text ready for files, plus what a caller logs or schedules on. */
export interface IssuedCertificate {
  /** The leaf followed by the intermediate: what a TLS peer must send. */
  certPem: string;
  keyPem: string;
  spiffeId: string;
  roles: IdentityRole[];
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

/** Issues a leaf certificate signed by `issuer` (the intermediate) with a fresh P-256 key. */
export async function issueCertificate(issuer: CaKeyPair, opts: IssueOptions): Promise<IssuedCertificate> {
  const spiffeId = formatSpiffeId(opts.trustDomain, opts.kind, opts.id);
  const roles = checkRoles(opts.kind, opts.roles);
  // Loopback names by default for nodes only: an admin certificate is a client's, never a server's.
  const loopback = opts.kind === 'node' && !opts.dns && !opts.ips;
  const dns = opts.dns ?? (loopback ? DEFAULT_DNS : []);
  const ips = opts.ips ?? (loopback ? DEFAULT_IPS : []);
  for (const ip of ips) if (!isIP(ip)) throw new MeshError('invalid_request', `"${ip}" is not an IP address`);
  const hours = opts.hours ?? DEFAULT_LEAF_HOURS;
  if (!(hours > 0)) throw new MeshError('invalid_request', 'the lifetime must be a positive number of hours');

  const notBefore = opts.notBefore ?? new Date(Date.now() - BACKDATE_MS);
  const wanted = opts.notAfter ?? new Date(notBefore.getTime() + BACKDATE_MS + hours * 3_600_000);
  const notAfter = new Date(Math.min(wanted.getTime(), issuer.cert.notAfter.getTime()));
  const keys = await generateKeyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [...roles.map((role) => ({ O: [role] })), { CN: [opts.id] }],
    issuer: issuer.cert.subjectName,
    notBefore,
    notAfter,
    signingAlgorithm: EC_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: issuer.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension([
        { type: 'url', value: spiffeId },
        ...dns.map((value) => ({ type: 'dns' as const, value })),
        ...ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.cert.publicKey),
    ],
  });
  return {
    certPem: `${cert.toString('pem')}\n${issuer.cert.toString('pem')}\n`,
    keyPem: `${await exportKeyPem(keys.privateKey)}\n`,
    spiffeId,
    roles,
    serial: cert.serialNumber,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}
