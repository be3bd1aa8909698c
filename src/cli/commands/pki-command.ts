/** Registers `mesh ca init|rotate|retire-old` and `mesh cert issue|show` (one line in program.ts). */
import { InvalidArgumentError, type Command } from 'commander';
import { collect, type Run } from '../runner.ts';
import {
  caInit,
  caRetireOld,
  caRotate,
  certIssue,
  certShow,
  type CaOptions,
  type IssueOptions,
} from './pki.ts';

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function registerPkiCommands(program: Command, run: Run): void {
  const ca = program
    .command('ca')
    .description('the internal CA that signs node and admin certificates (files in a folder)');
  const lifetimes = (cmd: Command) =>
    cmd
      .option('--root-days <days>', 'lifetime of the root CA', positive, 3650)
      .option('--intermediate-days <days>', 'lifetime of the intermediate CA', positive, 365);
  lifetimes(
    ca
      .command('init')
      .description('create a root CA and an intermediate CA in --dir (ECDSA P-256)')
      .requiredOption('--dir <dir>', 'CA folder')
      .option('--trust-domain <domain>', 'SPIFFE trust domain', 'mesh.local')
      .option('--force', 'replace an existing CA (its certificates stop being trusted)'),
  ).action(run<CaOptions>((_c, o) => caInit(o)));
  lifetimes(
    ca
      .command('rotate')
      .description('new root and intermediate; the old root stays in bundle.pem until retire-old')
      .requiredOption('--dir <dir>', 'CA folder'),
  ).action(run<CaOptions>((_c, o) => caRotate(o)));
  ca.command('retire-old')
    .description('end a rotation overlap: drop the old root from bundle.pem')
    .requiredOption('--dir <dir>', 'CA folder')
    .action(run<{ dir: string }>((_c, o) => caRetireOld(o)));

  const cert = program.command('cert').description('certificates of nodes and admin identities');
  cert
    .command('issue')
    .description('issue a node certificate (spiffe://<domain>/node/<id>) or an admin one (…/admin/<name>)')
    .requiredOption('--dir <dir>', 'CA folder (needs intermediate.key)')
    .option('--node <id>', 'node id (as in node.id of its meshd config)')
    .option('--admin <name>', 'admin identity for the control API (role admin unless --roles)')
    .option(
      '--roles <roles>',
      'comma-separated: router, gpu, edge (node); viewer, operator, admin (admin)',
      collect,
    )
    .option('--out <dir>', 'output folder (default <dir>/issued/<id>)')
    .option('--hours <hours>', 'lifetime', positive, 24)
    .option('--dns <name>', 'DNS name SAN (repeatable; default localhost)', collect)
    .option('--ip <addr>', 'IP address SAN (repeatable; default 127.0.0.1)', collect)
    .action(run<IssueOptions>((_c, o) => certIssue(o)));
  cert
    .command('show')
    .description('SPIFFE ID, roles and validity of a certificate file; with --ca or --dir, verify it')
    .argument('<file>', 'PEM certificate (a chain: the first is shown)')
    .option('--ca <bundle>', 'trust bundle to verify against')
    .option('--trust-domain <domain>', 'trust domain to verify against (with --ca)')
    .option('--dir <dir>', 'CA folder: its bundle and trust domain')
    .action((file: string, opts: object, cmd: Command) =>
      run<object>((_c, o) => certShow(file, o))(opts, cmd),
    );
}
