/**
 * The one place that loads `@peculiar/x509`: it needs `reflect-metadata` imported before it (its
 * ASN.1 schemas use decorators' metadata) and a WebCrypto provider, which is Node's own. Every
 * other PKI file imports the library from here, so the order can never be got wrong.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as Parameters<typeof x509.cryptoProvider.set>[1]);

/** WebCrypto key types (the project's `lib` has no DOM, so they come from node:crypto). */
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

export { x509 };

/** ECDSA P-256 with SHA-256: the algorithm of every key and signature of the mesh's CA. */
export const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A fresh ECDSA P-256 key pair; the private key is extractable so that it can be written as PEM. */
export async function generateKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify']);
}

/** A private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the form Node's TLS reads. */
export async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** Reads a PKCS#8 PEM ECDSA P-256 private key back as a signing key. */
export async function importKeyPem(pem: string): Promise<CryptoKey> {
  const [der] = x509.PemConverter.decode(pem);
  if (!der) throw new Error('no PEM block in the key file');
  return webcrypto.subtle.importKey('pkcs8', der, EC_ALGORITHM, false, ['sign']);
}

/**
 * A random positive 128-bit serial number in hex. Random (not counted) serials need no state
 * shared between issuers, and RFC 5280 asks for at most 20 octets; the top bit is cleared so the
 * DER integer stays positive.
 */
export function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return Buffer.from(bytes).toString('hex');
}

/** Every certificate of a PEM text (a chain or a bundle), in order. */
export function parsePemCertificates(pem: string): x509.X509Certificate[] {
  return x509.PemConverter.decodeWithHeaders(pem)
    .filter((block) => block.type === 'CERTIFICATE')
    .map((block) => new x509.X509Certificate(block.rawData));
}
