/**
 * The CA on disk. One folder holds:
 *   root.crt, root.key           the root (move root.key offline after init; issuing never needs it)
 *   intermediate.crt/.key        the issuing CA
 *   bundle.pem                   the trust bundle every node loads as `security.tls.ca`: the roots
 *   ca.json                      the trust domain and the dates of init and rotation
 *   previous/                    during a rotation overlap: the old root and intermediate
 * Rotation makes a new root and intermediate and keeps the old root in bundle.pem, so that
 * certificates of either are trusted until `retireOld` drops it.
 */
import { access, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MeshError } from '../../core/errors.ts';
import { createIntermediateCa, createRootCa, type CaKeyPair } from './ca.ts';
import { CERT_MODE, KEY_MODE, writeFileAtomic } from './files.ts';
import { DEFAULT_TRUST_DOMAIN, trustDomainProblem } from './spiffe.ts';
import type { x509 } from './x509.ts';
import { exportKeyPem, importKeyPem, parsePemCertificates } from './x509.ts';

/** File names inside a CA folder. */
export const CA_FILES = {
  rootCert: 'root.crt',
  rootKey: 'root.key',
  intermediateCert: 'intermediate.crt',
  intermediateKey: 'intermediate.key',
  bundle: 'bundle.pem',
  meta: 'ca.json',
  previous: 'previous',
} as const;

/** ca.json. */
export interface CaMeta {
  trustDomain: string;
  createdAt: string;
  rotatedAt?: string;
}

/** Options of `initCaDir` and `rotateCaDir`. */
export interface CaDirOptions {
  trustDomain?: string;
  rootDays?: number;
  intermediateDays?: number;
  /** Replace an existing CA (init only). */
  force?: boolean;
  now?: Date;
}

/** What init and rotate report. */
export interface CaDirResult {
  dir: string;
  trustDomain: string;
  root: { subject: string; notAfter: string; sha256: string };
  intermediate: { subject: string; notAfter: string };
  /** Roots in bundle.pem after the step. */
  bundleRoots: number;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

const pem = (cert: x509.X509Certificate) => `${cert.toString('pem')}\n`;

async function writePair(dir: string, root: CaKeyPair, intermediate: CaKeyPair): Promise<void> {
  await writeFileAtomic(join(dir, CA_FILES.rootKey), `${await exportKeyPem(root.privateKey)}\n`, KEY_MODE);
  await writeFileAtomic(join(dir, CA_FILES.rootCert), pem(root.cert), CERT_MODE);
  await writeFileAtomic(
    join(dir, CA_FILES.intermediateKey),
    `${await exportKeyPem(intermediate.privateKey)}\n`,
    KEY_MODE,
  );
  await writeFileAtomic(join(dir, CA_FILES.intermediateCert), pem(intermediate.cert), CERT_MODE);
}

async function makePair(trustDomain: string, opts: CaDirOptions) {
  const problem = trustDomainProblem(trustDomain);
  if (problem) throw new MeshError('invalid_request', problem);
  const root = await createRootCa({
    trustDomain,
    days: opts.rootDays ?? 3650,
    ...(opts.now ? { now: opts.now } : {}),
  });
  const intermediate = await createIntermediateCa(root, {
    trustDomain,
    days: opts.intermediateDays ?? 365,
    ...(opts.now ? { now: opts.now } : {}),
  });
  return { root, intermediate };
}

async function result(dir: string, trustDomain: string, root: CaKeyPair, intermediate: CaKeyPair) {
  const bundle = parsePemCertificates(await readFile(join(dir, CA_FILES.bundle), 'utf8'));
  return {
    dir,
    trustDomain,
    root: {
      subject: root.cert.subject,
      notAfter: root.cert.notAfter.toISOString(),
      sha256: Buffer.from(await root.cert.getThumbprint('SHA-256')).toString('hex'),
    },
    intermediate: { subject: intermediate.cert.subject, notAfter: intermediate.cert.notAfter.toISOString() },
    bundleRoots: bundle.length,
  };
}

/** Creates a CA in `dir`; refuses when one is there unless `force`. */
export async function initCaDir(dir: string, opts: CaDirOptions = {}): Promise<CaDirResult> {
  const trustDomain = opts.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  const present = await Promise.all(
    [CA_FILES.rootCert, CA_FILES.intermediateKey, CA_FILES.bundle, CA_FILES.meta].map((f) =>
      exists(join(dir, f)),
    ),
  );
  if (present.some(Boolean) && !opts.force)
    throw new MeshError(
      'conflict',
      `a CA already exists in ${dir}; pass --force to replace it (every certificate it issued stops being trusted)`,
    );
  const { root, intermediate } = await makePair(trustDomain, opts);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (opts.force) await rm(join(dir, CA_FILES.previous), { recursive: true, force: true });
  await writePair(dir, root, intermediate);
  await writeFileAtomic(join(dir, CA_FILES.bundle), pem(root.cert), CERT_MODE);
  const meta: CaMeta = { trustDomain, createdAt: (opts.now ?? new Date()).toISOString() };
  await writeFileAtomic(join(dir, CA_FILES.meta), `${JSON.stringify(meta, null, 2)}\n`, CERT_MODE);
  return result(dir, trustDomain, root, intermediate);
}

/** Reads ca.json. */
export async function readCaMeta(dir: string): Promise<CaMeta> {
  let text: string;
  try {
    text = await readFile(join(dir, CA_FILES.meta), 'utf8');
  } catch {
    throw new MeshError(
      'not_found',
      `no CA in ${dir} (missing ${CA_FILES.meta}; run mesh ca init --dir ${dir})`,
    );
  }
  return JSON.parse(text) as CaMeta;
}

/** The issuing CA of a folder: the intermediate with its key, and the trust domain. */
export async function loadIssuer(dir: string): Promise<{ issuer: CaKeyPair; trustDomain: string }> {
  const { trustDomain } = await readCaMeta(dir);
  const [certPem, keyPem] = await Promise.all([
    readFile(join(dir, CA_FILES.intermediateCert), 'utf8'),
    readFile(join(dir, CA_FILES.intermediateKey), 'utf8').catch(() => {
      throw new MeshError(
        'not_found',
        `${join(dir, CA_FILES.intermediateKey)} is missing: issuing needs the intermediate key`,
      );
    }),
  ]);
  const [cert] = parsePemCertificates(certPem);
  if (!cert) throw new Error(`no certificate in ${join(dir, CA_FILES.intermediateCert)}`);
  return { issuer: { cert, privateKey: await importKeyPem(keyPem) }, trustDomain };
}

/**
 * Starts a rotation: the current root and intermediate move to previous/, a new pair takes their
 * place, bundle.pem holds the new root and the old one. Refused while an overlap is open.
 */
export async function rotateCaDir(dir: string, opts: CaDirOptions = {}): Promise<CaDirResult> {
  const meta = await readCaMeta(dir);
  const previous = join(dir, CA_FILES.previous);
  if (await exists(previous))
    throw new MeshError(
      'conflict',
      `a rotation overlap is open in ${dir}; run mesh ca retire-old --dir ${dir} first`,
    );
  const oldRootPem = await readFile(join(dir, CA_FILES.rootCert), 'utf8');
  const { root, intermediate } = await makePair(meta.trustDomain, opts);
  await mkdir(previous, { mode: 0o700 });
  for (const f of [CA_FILES.rootCert, CA_FILES.rootKey, CA_FILES.intermediateCert, CA_FILES.intermediateKey])
    if (await exists(join(dir, f))) await rename(join(dir, f), join(previous, f));
  await writePair(dir, root, intermediate);
  // New root first: peers that build chains from the bundle's order find the current one sooner.
  await writeFileAtomic(join(dir, CA_FILES.bundle), `${pem(root.cert)}${oldRootPem.trim()}\n`, CERT_MODE);
  const next: CaMeta = { ...meta, rotatedAt: (opts.now ?? new Date()).toISOString() };
  await writeFileAtomic(join(dir, CA_FILES.meta), `${JSON.stringify(next, null, 2)}\n`, CERT_MODE);
  return result(dir, meta.trustDomain, root, intermediate);
}

/** Ends a rotation overlap: bundle.pem keeps only the current root; previous/ is deleted. */
export async function retireOldCa(
  dir: string,
): Promise<{ dir: string; bundleRoots: number; removed: string }> {
  await readCaMeta(dir);
  const previous = join(dir, CA_FILES.previous);
  if (!(await exists(previous)))
    throw new MeshError('conflict', `no rotation overlap in ${dir} (nothing to retire)`);
  const rootPem = await readFile(join(dir, CA_FILES.rootCert), 'utf8');
  await writeFileAtomic(join(dir, CA_FILES.bundle), `${rootPem.trim()}\n`, CERT_MODE);
  await rm(previous, { recursive: true, force: true });
  return { dir, bundleRoots: 1, removed: previous };
}
