/**
 * The mesh's certificate authorities in memory: a self-signed root and an intermediate it signs.
 * Two levels so that the root key can stay offline: day-to-day issuing needs only the
 * intermediate, and a stolen intermediate is replaced without touching every node's trust bundle
 * (ca-dir.ts puts these on disk).
 */
import { trustDomainId } from './spiffe.ts';
import { EC_ALGORITHM, generateKeyPair, randomSerial, x509, type CryptoKey } from './x509.ts';

/** A CA certificate with the private key that signs with it. */
export interface CaKeyPair {
  cert: x509.X509Certificate;
  privateKey: CryptoKey;
}

/** Options of a new root or intermediate. */
export interface CaOptions {
  trustDomain: string;
  /** Lifetime in days. */
  days: number;
  /** Start of validity; defaults to now. */
  now?: Date;
}

const DAY_MS = 86_400_000;
/**
 * Certificates start a minute in the past: a peer whose clock is a little behind must not see a
 * just-issued certificate as "not yet valid".
 */
export const BACKDATE_MS = 60_000;

/** CA key usage: sign certificates and CRLs, nothing else (critical, per RFC 5280 §4.2.1.3). */
const caKeyUsage = () =>
  new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true);

/** A self-signed ECDSA P-256 root CA for the trust domain. */
export async function createRootCa(opts: CaOptions): Promise<CaKeyPair> {
  const keys = await generateKeyPair();
  const start = (opts.now ?? new Date()).getTime() - BACKDATE_MS;
  const serialNumber = randomSerial();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber,
    // The serial's head in the name tells generations apart during a rotation overlap.
    name: [
      { O: ['InferMesh'] },
      { CN: [`InferMesh root CA ${opts.trustDomain} ${serialNumber.slice(0, 8)}`] },
    ],
    notBefore: new Date(start),
    notAfter: new Date(start + opts.days * DAY_MS),
    signingAlgorithm: EC_ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      caKeyUsage(),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: trustDomainId(opts.trustDomain) }]),
    ],
  });
  return { cert, privateKey: keys.privateKey };
}

/**
 * An intermediate CA signed by `root`, path length 0 (it signs leaves only). Its lifetime is cut
 * to the root's: a certificate that outlives its issuer would fail anyway, later and less clearly.
 */
export async function createIntermediateCa(root: CaKeyPair, opts: CaOptions): Promise<CaKeyPair> {
  const keys = await generateKeyPair();
  const start = (opts.now ?? new Date()).getTime() - BACKDATE_MS;
  const end = Math.min(start + opts.days * DAY_MS, root.cert.notAfter.getTime());
  const serialNumber = randomSerial();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber,
    subject: [
      { O: ['InferMesh'] },
      { CN: [`InferMesh intermediate CA ${opts.trustDomain} ${serialNumber.slice(0, 8)}`] },
    ],
    issuer: root.cert.subjectName,
    notBefore: new Date(start),
    notAfter: new Date(end),
    signingAlgorithm: EC_ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: root.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      caKeyUsage(),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(root.cert.publicKey),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: trustDomainId(opts.trustDomain) }]),
    ],
  });
  return { cert, privateKey: keys.privateKey };
}
