/**
 * Issuing from a CA folder into files: what `mesh cert issue` and meshd's renewal share. The out
 * folder gets the certificate (leaf + intermediate), its key (0600) and a copy of the trust
 * bundle, i.e. everything `security.tls` of that node names.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CA_FILES, loadIssuer } from './ca-dir.ts';
import { CERT_MODE, KEY_MODE, writeFileAtomic } from './files.ts';
import { issueCertificate, type IssueOptions, type IssuedCertificate } from './issue.ts';

/** Options of `issueToFiles`: the issue options less the trust domain, which the CA folder holds. */
export interface IssueToFilesOptions extends Omit<IssueOptions, 'trustDomain'> {
  /** The CA folder (needs intermediate.crt and intermediate.key). */
  caDir: string;
  /** Output folder; default `<caDir>/issued/<id>`. */
  out?: string;
  /** Exact paths instead of `out/<kind>.crt` and `out/<kind>.key` (meshd's renewal). */
  certFile?: string;
  keyFile?: string;
  /** Where to copy bundle.pem; default `out/bundle.pem`, false for no copy. */
  bundleFile?: string | false;
}

/** Where the files went, plus the issued certificate's facts. */
export interface IssuedFiles extends Omit<IssuedCertificate, 'certPem' | 'keyPem'> {
  certFile: string;
  keyFile: string;
  bundleFile: string | null;
}

/** Issues a certificate with the CA folder's intermediate and writes it, its key and the bundle. */
export async function issueToFiles(opts: IssueToFilesOptions): Promise<IssuedFiles> {
  const { caDir, out: outOpt, certFile: c, keyFile: k, bundleFile: b, ...issueOpts } = opts;
  const { issuer, trustDomain } = await loadIssuer(caDir);
  const issued = await issueCertificate(issuer, { ...issueOpts, trustDomain });
  const out = outOpt ?? join(caDir, 'issued', opts.id);
  const certFile = c ?? join(out, `${opts.kind}.crt`);
  const keyFile = k ?? join(out, `${opts.kind}.key`);
  const bundleFile = b === false ? null : (b ?? join(out, CA_FILES.bundle));
  for (const f of [certFile, keyFile, bundleFile])
    if (f) await mkdir(dirname(f), { recursive: true, mode: 0o700 });
  // Two renames cannot be one: a reloader may see the new key with the old certificate for a
  // moment; it keeps the old context until the pair matches (cert-reloader.ts).
  await writeFileAtomic(keyFile, issued.keyPem, KEY_MODE);
  await writeFileAtomic(certFile, issued.certPem, CERT_MODE);
  if (bundleFile && resolve(caDir, CA_FILES.bundle) !== resolve(bundleFile))
    await writeFileAtomic(bundleFile, await readFile(join(caDir, CA_FILES.bundle), 'utf8'), CERT_MODE);
  const { certPem: _c, keyPem: _k, ...facts } = issued;
  return { ...facts, certFile, keyFile, bundleFile };
}
