// `mesh ca` and `mesh cert` as a real process (bin/mesh.js): init, issue, show, rotate, retire-old,
// and a real mTLS handshake with the files the CLI wrote.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probe, startProbeServer } from '../src/security/pki/testing/mtls-probe.ts';
import { runMesh } from './helpers/mesh-cli.ts';

const mesh = (args: string[]) => runMesh(args);

/** The fields of the `-o json` answers these tests read. */
interface CliJson {
  spiffeId: string;
  roles: string[];
  certFile: string;
  keyFile: string;
  notBefore: string;
  notAfter: string;
  verified: boolean | null;
  bundleRoots: number;
}

const json = async (args: string[]): Promise<CliJson> => {
  const r = await mesh([...args, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as CliJson;
};

test('mesh ca init, cert issue, cert show; the files make an mTLS link', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pki-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ca = join(dir, 'ca');
  const init = await mesh(['ca', 'init', '--dir', ca, '--trust-domain', 'test.mesh']);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /move it offline/);
  const again = await mesh(['ca', 'init', '--dir', ca]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^mesh: error: conflict: a CA already exists .* --force/);

  const gpu = await json([
    'cert',
    'issue',
    '--dir',
    ca,
    '--node',
    'gpu-1',
    '--roles',
    'gpu',
    '--out',
    join(dir, 'gpu-1'),
  ]);
  assert.equal(gpu.spiffeId, 'spiffe://test.mesh/node/gpu-1');
  assert.equal((await stat(gpu.keyFile)).mode & 0o777, 0o600);
  const router = await json([
    'cert',
    'issue',
    '--dir',
    ca,
    '--node',
    'router-1',
    '--roles',
    'router,edge',
    '--hours',
    '2',
  ]);
  assert.deepEqual(router.roles, ['edge', 'router']);
  const hours = (Date.parse(router.notAfter) - Date.parse(router.notBefore)) / 3_600_000;
  assert.ok(hours > 1.9 && hours < 2.1, `lifetime ${hours} h`);
  const admin = await json(['cert', 'issue', '--dir', ca, '--admin', 'alice']);
  assert.equal(admin.spiffeId, 'spiffe://test.mesh/admin/alice');

  const shown = await json(['cert', 'show', gpu.certFile, '--dir', ca]);
  assert.equal(shown.spiffeId, 'spiffe://test.mesh/node/gpu-1');
  assert.deepEqual(shown.roles, ['gpu']);
  assert.equal(shown.notAfter, gpu.notAfter);
  assert.equal(shown.verified, true);
  const bad = await mesh(['cert', 'issue', '--dir', ca, '--node', 'x', '--roles', 'wizard']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid_request: unknown node role "wizard"/);
  const both = await mesh(['cert', 'issue', '--dir', ca, '--node', 'x', '--admin', 'y']);
  assert.equal(both.code, 2);

  const bundle = await readFile(join(dir, 'gpu-1', 'bundle.pem'), 'utf8');
  const verify = { bundle, trustDomain: 'test.mesh' };
  const server = await startProbeServer(
    { cert: await readFile(gpu.certFile, 'utf8'), key: await readFile(gpu.keyFile, 'utf8'), ca: bundle },
    { ...verify, allowedRoles: ['router'] },
  );
  t.after(() => server.close());
  const r = await probe(
    server.port,
    {
      cert: await readFile(router.certFile, 'utf8'),
      key: await readFile(router.keyFile, 'utf8'),
      ca: bundle,
    },
    { ...verify, allowedRoles: ['gpu'] },
  );
  assert.equal(r.server?.spiffeId, 'spiffe://test.mesh/node/gpu-1');
  assert.ok(r.reply?.ok, JSON.stringify(r));
  assert.equal(r.reply.identity.spiffeId, 'spiffe://test.mesh/node/router-1');
});

test('mesh ca rotate and retire-old: the bundle holds two roots, then one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pki-cli-rot-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await json(['ca', 'init', '--dir', dir]);
  const old = await json(['cert', 'issue', '--dir', dir, '--node', 'n1', '--roles', 'gpu']);
  const rotated = await json(['ca', 'rotate', '--dir', dir]);
  assert.equal(rotated.bundleRoots, 2);
  assert.equal((await json(['cert', 'show', old.certFile, '--dir', dir])).verified, true);
  const twice = await mesh(['ca', 'rotate', '--dir', dir]);
  assert.match(twice.stderr, /conflict: a rotation overlap is open/);
  assert.equal((await json(['ca', 'retire-old', '--dir', dir])).bundleRoots, 1);
  const refused = await mesh(['cert', 'show', old.certFile, '--dir', dir]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /unauthenticated: .*does not chain/);
});
