// verifyPeer on PEM chains (no sockets): each rule and its error code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../../core/errors.ts';
import { createIntermediateCa, createRootCa } from './ca.ts';
import { issueCertificate } from './issue.ts';
import { verifyPeer } from './verify-peer.ts';

const TD = 'mesh.local';
const root = await createRootCa({ trustDomain: TD, days: 30 });
const inter = await createIntermediateCa(root, { trustDomain: TD, days: 10 });
const bundle = root.cert.toString('pem');
const node = (id: string, roles: string[], extra = {}) =>
  issueCertificate(inter, { trustDomain: TD, kind: 'node', id, roles, ...extra });
const rejects = (fn: () => unknown, code: string, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof MeshError && e.code === code && pattern.test(e.message));

test('a node certificate chains to the bundle and yields its identity', async () => {
  const c = await node('gpu-1', ['gpu', 'router']);
  const id = verifyPeer(c.certPem, { bundle, trustDomain: TD, allowedRoles: ['router'] });
  assert.equal(id.spiffeId, 'spiffe://mesh.local/node/gpu-1');
  assert.deepEqual(id.roles, ['gpu', 'router']);
  assert.equal(id.serial, c.serial);
});

test('admin identities carry their roles; kinds can be restricted', async () => {
  const a = await issueCertificate(inter, {
    trustDomain: TD,
    kind: 'admin',
    id: 'alice',
    roles: ['operator'],
  });
  const id = verifyPeer(a.certPem, { bundle, trustDomain: TD, allowedKinds: ['admin'] });
  assert.deepEqual([id.kind, id.id, id.roles], ['admin', 'alice', ['operator']]);
  rejects(
    () => verifyPeer(a.certPem, { bundle, trustDomain: TD, allowedKinds: ['node'] }),
    'permission_denied',
    /admin identity/,
  );
  await assert.rejects(
    issueCertificate(inter, { trustDomain: TD, kind: 'admin', id: 'bob', roles: ['gpu'] }),
    /unknown admin role/,
  );
});

test('refusals: empty, another CA, expired, not yet valid, wrong domain, wrong role, wrong peer, a CA', async () => {
  const c = await node('gpu-1', ['gpu']);
  rejects(() => verifyPeer('', { bundle, trustDomain: TD }), 'unauthenticated', /no certificate/);
  const otherRoot = await createRootCa({ trustDomain: TD, days: 30 });
  rejects(
    () => verifyPeer(c.certPem, { bundle: otherRoot.cert.toString('pem'), trustDomain: TD }),
    'unauthenticated',
    /does not chain/,
  );
  const leafOnly = c.certPem.split(/(?<=-----END CERTIFICATE-----)/)[0]!;
  rejects(() => verifyPeer(leafOnly, { bundle, trustDomain: TD }), 'unauthenticated', /does not chain/);
  const past = new Date(Date.now() - 7_200_000);
  const old = await node('old', ['gpu'], { notBefore: past, notAfter: new Date(past.getTime() + 3_600_000) });
  rejects(() => verifyPeer(old.certPem, { bundle, trustDomain: TD }), 'unauthenticated', /expired at/);
  rejects(
    () => verifyPeer(c.certPem, { bundle, trustDomain: TD, now: new Date(Date.now() - 86_400_000) }),
    'unauthenticated',
    /not valid before/,
  );
  rejects(
    () => verifyPeer(c.certPem, { bundle, trustDomain: 'prod.mesh' }),
    'unauthenticated',
    /trust domain "mesh\.local", not "prod\.mesh"/,
  );
  rejects(
    () => verifyPeer(c.certPem, { bundle, trustDomain: TD, allowedRoles: ['router'] }),
    'permission_denied',
    /has roles \[gpu\]/,
  );
  rejects(
    () =>
      verifyPeer(c.certPem, { bundle, trustDomain: TD, expectedSpiffeId: 'spiffe://mesh.local/node/gpu-2' }),
    'unauthenticated',
    /not the expected/,
  );
  rejects(
    () => verifyPeer(inter.cert.toString('pem'), { bundle, trustDomain: TD }),
    'unauthenticated',
    /CA certificate/,
  );
});
