/** What a certificate file says about itself, without judging it (verifyPeer judges). */
import { MeshError } from '../../core/errors.ts';
import { parseSpiffeId, type IdentityKind } from './spiffe.ts';
import { parsePemCertificates, x509 } from './x509.ts';

/** The facts of a leaf certificate (or of a CA certificate: no SPIFFE kind). */
export interface CertificateFacts {
  subject: string;
  spiffeId: string | null;
  kind: IdentityKind | null;
  id: string | null;
  /** Subject O values: the roles of a mesh leaf. */
  roles: string[];
  dns: string[];
  ips: string[];
  serial: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  isCa: boolean;
  /** Certificates in the file (2 for a leaf with its intermediate). */
  chainLength: number;
}

/** Reads the first certificate of a PEM text (a chain: the leaf). */
export function describeCertificate(pem: string): CertificateFacts {
  const chain = parsePemCertificates(pem);
  const cert = chain[0];
  if (!cert) throw new MeshError('invalid_request', 'no PEM certificate in the input');
  const names = cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  const of = (type: string) => names.filter((n) => n.type === type).map((n) => n.value);
  const uri = of('url')[0] ?? null;
  const identity = uri ? parseSpiffeId(uri) : undefined;
  return {
    subject: cert.subject,
    spiffeId: uri,
    kind: identity?.kind ?? null,
    id: identity?.id ?? null,
    roles: cert.subjectName.getField('O'),
    dns: of('dns'),
    ips: of('ip'),
    serial: cert.serialNumber,
    issuer: cert.issuer,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    isCa: cert.getExtension(x509.BasicConstraintsExtension)?.ca ?? false,
    chainLength: chain.length,
  };
}
