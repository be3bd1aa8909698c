// Real TLS on 127.0.0.1:0 with certificates from a real CA folder: the handshake, each rejection,
// rotation overlap and hot reload of a re-issued certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCaDir, loadIssuer, retireOldCa, rotateCaDir } from './ca-dir.ts';
import { createCertReloader } from './cert-reloader.ts';
import { issueCertificate } from './issue.ts';
import { issueToFiles } from './issue-files.ts';
import { probe, startProbeServer } from './testing/mtls-probe.ts';

const TD = 'mesh.local';

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'pki-mtls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await initCaDir(join(dir, 'ca'), { trustDomain: TD });
  const files = (id: string) => ({ certFile: join(dir, id, 'node.crt'), keyFile: join(dir, id, 'node.key') });
  const issue = async (id: string, roles: string[], extra: object = {}) => {
    const f = files(id);
    await issueToFiles({
      caDir: join(dir, 'ca'),
      kind: 'node',
      id,
      roles,
      ...f,
      out: join(dir, id),
      ...extra,
    });
    return { cert: await readFile(f.certFile, 'utf8'), key: await readFile(f.keyFile, 'utf8'), ...f };
  };
  const bundle = () => readFile(join(dir, 'ca', 'bundle.pem'), 'utf8');
  return { dir, caDir: join(dir, 'ca'), issue, bundle };
}

test('mTLS handshake: both sides read the other SPIFFE ID and roles', async (t) => {
  const { issue, bundle } = await setup(t);
  const ca = await bundle();
  const srv = await issue('gpu-1', ['gpu']);
  const cli = await issue('router-1', ['router', 'edge']);
  const server = await startProbeServer(
    { cert: srv.cert, key: srv.key, ca },
    { bundle: ca, trustDomain: TD, allowedRoles: ['router'] },
  );
  t.after(() => server.close());
  const r = await probe(
    server.port,
    { cert: cli.cert, key: cli.key, ca },
    { bundle: ca, trustDomain: TD, allowedRoles: ['gpu'], expectedSpiffeId: `spiffe://${TD}/node/gpu-1` },
  );
  assert.equal(r.error, undefined);
  assert.equal(r.server?.spiffeId, 'spiffe://mesh.local/node/gpu-1');
  assert.deepEqual(r.server?.roles, ['gpu']);
  assert.ok(r.reply?.ok);
  assert.equal(r.reply.identity.spiffeId, 'spiffe://mesh.local/node/router-1');
  assert.equal(r.reply.identity.kind, 'node');
  assert.deepEqual(r.reply.identity.roles, ['edge', 'router']);
});

test('rejections on a real socket: no certificate, another CA, expired, wrong domain, wrong role', async (t) => {
  const { dir, caDir, issue, bundle } = await setup(t);
  const ca = await bundle();
  const srv = await issue('gpu-1', ['gpu']);
  // A second CA of another trust domain, its root deliberately in the bundle the server trusts.
  await initCaDir(join(dir, 'evil'), { trustDomain: 'evil.mesh' });
  const evilRoot = await readFile(join(dir, 'evil', 'bundle.pem'), 'utf8');
  const evil = await issueToFiles({ caDir: join(dir, 'evil'), kind: 'node', id: 'x', roles: ['router'] });
  const evilCert = { cert: await readFile(evil.certFile, 'utf8'), key: await readFile(evil.keyFile, 'utf8') };
  // Strict TLS (what meshd runs): the handshake itself fails for no certificate and another CA.
  const strict = await startProbeServer(
    { cert: srv.cert, key: srv.key, ca },
    { bundle: ca, trustDomain: TD },
  );
  t.after(() => strict.close());
  const none = await probe(strict.port, { ca });
  assert.equal(none.reply, undefined, 'no reply without a client certificate');
  assert.ok(none.error, 'the connection fails');
  const other = await probe(strict.port, { ca, ...evilCert });
  assert.equal(other.reply, undefined, 'no reply for a certificate of another CA');

  // Lenient TLS, verifyPeer as the gate: each refusal with its code and reason.
  const both = `${ca}${evilRoot}`;
  const lenient = await startProbeServer(
    { cert: srv.cert, key: srv.key, ca: both, rejectUnauthorized: false },
    { bundle: both, trustDomain: TD, allowedRoles: ['router'] },
  );
  t.after(() => lenient.close());
  const refused = async (tls: object, code: string, pattern: RegExp) => {
    const r = await probe(lenient.port, { ca, ...tls });
    assert.ok(r.reply && !r.reply.ok, `refused: ${JSON.stringify(r)}`);
    assert.equal(r.reply.code, code);
    assert.match(r.reply.message, pattern);
  };
  await refused({}, 'unauthenticated', /no certificate/);
  const { issuer } = await loadIssuer(caDir);
  const past = new Date(Date.now() - 48 * 3_600_000);
  const expired = await issueCertificate(issuer, {
    trustDomain: TD,
    kind: 'node',
    id: 'old',
    roles: ['router'],
    notBefore: past,
    notAfter: new Date(past.getTime() + 3_600_000),
  });
  await refused({ cert: expired.certPem, key: expired.keyPem }, 'unauthenticated', /expired/i);
  await refused(evilCert, 'unauthenticated', /trust domain "evil\.mesh"/);
  const gpu = await issue('gpu-2', ['gpu']);
  await refused({ cert: gpu.cert, key: gpu.key }, 'permission_denied', /needs one of \[router\]/);
  const ok = await probe(lenient.port, { ca, ...(await issue('router-1', ['router'])) });
  assert.ok(ok.reply?.ok);
});

test('CA rotation: old and new certificates both accepted until retire-old, then the old refused', async (t) => {
  const { caDir, issue, bundle } = await setup(t);
  const oldCli = await issue('router-old', ['router']);
  await rotateCaDir(caDir);
  const overlap = await bundle();
  const srv = await issue('gpu-1', ['gpu']); // issued by the new intermediate
  const newCli = await issue('router-new', ['router']);
  assert.notEqual(oldCli.cert.split('-----END')[0], newCli.cert.split('-----END')[0]);
  const server = await startProbeServer(
    { cert: srv.cert, key: srv.key, ca: overlap },
    { bundle: overlap, trustDomain: TD },
  );
  t.after(() => server.close());
  for (const c of [oldCli, newCli]) {
    const r = await probe(
      server.port,
      { cert: c.cert, key: c.key, ca: overlap },
      { bundle: overlap, trustDomain: TD },
    );
    assert.ok(r.reply?.ok, `accepted during the overlap: ${JSON.stringify(r)}`);
  }
  await retireOldCa(caDir);
  const after = await bundle();
  assert.equal(after.match(/BEGIN CERTIFICATE/g)?.length, 1);
  server.server.setSecureContext({ cert: srv.cert, key: srv.key, ca: after });
  const old = await probe(server.port, { cert: oldCli.cert, key: oldCli.key, ca: after });
  assert.equal(old.reply, undefined, 'the old CA is no longer trusted');
  const fresh = await probe(server.port, { cert: newCli.cert, key: newCli.key, ca: after });
  assert.ok(fresh.reply?.ok);
});

test('the reloader swaps in a re-issued certificate without restarting the server', async (t) => {
  const { dir, caDir, issue, bundle } = await setup(t);
  const srv = await issue('gpu-1', ['gpu']);
  const cli = await issue('router-1', ['router']);
  const ca = await bundle();
  const changes: string[] = [];
  const reloader = await createCertReloader({
    certFile: srv.certFile,
    keyFile: srv.keyFile,
    caFile: join(caDir, 'bundle.pem'),
    pollMs: 200,
    onChange: (s) => {
      server.server.setSecureContext(s.options);
      changes.push(s.serial);
    },
  });
  t.after(() => reloader.close());
  const server = await startProbeServer(reloader.current().options, { bundle: ca, trustDomain: TD });
  t.after(() => server.close());
  const first = await probe(server.port, { cert: cli.cert, key: cli.key, ca });
  assert.equal(first.serverSerial, reloader.current().serial);

  const renewed = await issueToFiles({
    caDir,
    kind: 'node',
    id: 'gpu-1',
    roles: ['gpu'],
    out: join(dir, 'gpu-1'),
  });
  const deadline = Date.now() + 5000;
  while (reloader.current().serial !== renewed.serial && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  assert.equal(reloader.current().serial, renewed.serial);
  assert.deepEqual(changes.at(-1), renewed.serial);
  assert.equal(reloader.expiresAt.getTime(), renewed.notAfter.getTime());
  const second = await probe(server.port, { cert: cli.cert, key: cli.key, ca });
  assert.equal(second.serverSerial, renewed.serial);
  assert.ok(second.reply?.ok);
});
