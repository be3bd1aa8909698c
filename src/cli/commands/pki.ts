/**
 * `mesh ca …` and `mesh cert …`: the internal CA and the certificates of nodes and admins. Local
 * file work, no meshd involved; the PKI itself lives in src/security/pki/.
 */
import { readFile } from 'node:fs/promises';
import {
  initCaDir,
  readCaMeta,
  retireOldCa,
  rotateCaDir,
  type CaDirResult,
} from '../../security/pki/ca-dir.ts';
import { describeCertificate } from '../../security/pki/describe.ts';
import { issueToFiles } from '../../security/pki/issue-files.ts';
import { verifyPeer } from '../../security/pki/verify-peer.ts';
import { UsageError, type CommandResult } from '../runner.ts';

/** Options of `mesh ca init` and `mesh ca rotate`. */
export interface CaOptions {
  dir: string;
  trustDomain?: string;
  rootDays: number;
  intermediateDays: number;
  force?: boolean;
}

const caView = (r: CaDirResult, action: string) => ({
  head: ['CA', 'ACTION', 'TRUST DOMAIN', 'ROOT', 'ROOT NOT AFTER', 'BUNDLE ROOTS'],
  rows: [[r.dir, action, r.trustDomain, r.root.subject, r.root.notAfter, r.bundleRoots]],
  footer: [`The root key is ${r.dir}/root.key: move it offline now; issuing needs only the intermediate.`],
});

/** `mesh ca init`. */
export async function caInit(o: CaOptions): Promise<CommandResult> {
  const r = await initCaDir(o.dir, {
    ...(o.trustDomain ? { trustDomain: o.trustDomain } : {}),
    rootDays: o.rootDays,
    intermediateDays: o.intermediateDays,
    force: Boolean(o.force),
  });
  return { data: r, view: caView(r, 'created') };
}

/** `mesh ca rotate`. */
export async function caRotate(o: CaOptions): Promise<CommandResult> {
  const r = await rotateCaDir(o.dir, { rootDays: o.rootDays, intermediateDays: o.intermediateDays });
  const view = caView(r, 'rotated');
  view.footer.push(
    'bundle.pem now holds the new and the old root: ship it to every node, re-issue the certificates,',
    `then run mesh ca retire-old --dir ${o.dir}.`,
  );
  return { data: r, view };
}

/** `mesh ca retire-old`. */
export async function caRetireOld(o: { dir: string }): Promise<CommandResult> {
  const r = await retireOldCa(o.dir);
  return {
    data: r,
    view: { head: ['CA', 'ACTION', 'BUNDLE ROOTS'], rows: [[r.dir, 'old root retired', r.bundleRoots]] },
  };
}

/** Options of `mesh cert issue`. */
export interface IssueOptions {
  dir: string;
  node?: string;
  admin?: string;
  roles?: string[];
  out?: string;
  hours: number;
  dns?: string[];
  ip?: string[];
}

/** Splits `--roles router,gpu` (repeatable too). */
const splitRoles = (values: string[] | undefined) =>
  (values ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);

/** `mesh cert issue`. */
export async function certIssue(o: IssueOptions): Promise<CommandResult> {
  if (Boolean(o.node) === Boolean(o.admin))
    throw new UsageError('give exactly one of --node ID and --admin NAME');
  const kind = o.node ? 'node' : 'admin';
  const roles = splitRoles(o.roles);
  if (kind === 'node' && roles.length === 0) throw new UsageError('--node needs --roles (router, gpu, edge)');
  const issued = await issueToFiles({
    caDir: o.dir,
    kind,
    id: (o.node ?? o.admin)!,
    roles: roles.length > 0 ? roles : ['admin'],
    hours: o.hours,
    ...(o.out ? { out: o.out } : {}),
    ...(o.dns ? { dns: o.dns } : {}),
    ...(o.ip ? { ips: o.ip } : {}),
  });
  const data = {
    ...issued,
    notBefore: issued.notBefore.toISOString(),
    notAfter: issued.notAfter.toISOString(),
  };
  return {
    data,
    view: {
      head: ['SPIFFE ID', 'ROLES', 'NOT AFTER', 'CERT', 'KEY'],
      rows: [[data.spiffeId, data.roles.join(','), data.notAfter, data.certFile, data.keyFile]],
    },
  };
}

/** `mesh cert show FILE [--ca BUNDLE]`: the facts, and with a bundle whether a peer would accept it. */
export async function certShow(
  file: string,
  o: { ca?: string; trustDomain?: string; dir?: string },
): Promise<CommandResult> {
  const pem = await readFile(file, 'utf8');
  const facts = describeCertificate(pem);
  let verified: boolean | null = null;
  const bundleFile = o.ca ?? (o.dir ? `${o.dir}/bundle.pem` : undefined);
  if (bundleFile) {
    const trustDomain = o.trustDomain ?? (o.dir ? (await readCaMeta(o.dir)).trustDomain : undefined);
    if (!trustDomain) throw new UsageError('--ca needs --trust-domain (or give --dir of the CA)');
    verifyPeer(pem, { bundle: await readFile(bundleFile, 'utf8'), trustDomain }); // throws why not
    verified = true;
  }
  return {
    data: { file, ...facts, verified },
    view: {
      head: ['SPIFFE ID', 'ROLES', 'SERIAL', 'NOT AFTER', 'VERIFIED'],
      rows: [
        [
          facts.spiffeId ?? facts.subject,
          facts.roles.join(','),
          facts.serial,
          facts.notAfter,
          verified === null ? '-' : 'yes',
        ],
      ],
    },
  };
}
