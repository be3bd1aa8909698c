// The CA folder: files and modes, no silent overwrite, rotation overlap bookkeeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCaDir, readCaMeta, retireOldCa, rotateCaDir } from './ca-dir.ts';
import { parsePemCertificates, x509 } from './x509.ts';

test('init writes root, intermediate, bundle and meta; keys are 0600; a second init needs force', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pki-ca-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const r = await initCaDir(dir, { trustDomain: 'prod.mesh', rootDays: 100, intermediateDays: 10 });
  assert.equal(r.bundleRoots, 1);
  for (const key of ['root.key', 'intermediate.key'])
    assert.equal((await stat(join(dir, key))).mode & 0o777, 0o600);
  assert.equal((await readCaMeta(dir)).trustDomain, 'prod.mesh');
  const [root] = parsePemCertificates(await readFile(join(dir, 'root.crt'), 'utf8'));
  const [inter] = parsePemCertificates(await readFile(join(dir, 'intermediate.crt'), 'utf8'));
  assert.ok(await root!.isSelfSigned());
  assert.equal(root!.getExtension(x509.BasicConstraintsExtension)?.ca, true);
  assert.equal(inter!.getExtension(x509.BasicConstraintsExtension)?.pathLength, 0);
  assert.ok(await inter!.verify({ publicKey: root!.publicKey, signatureOnly: true }));
  assert.ok(root!.getExtension(x509.KeyUsagesExtension)!.usages & x509.KeyUsageFlags.keyCertSign);
  await assert.rejects(initCaDir(dir), (e: Error & { code?: string }) => e.code === 'conflict');
  const again = await initCaDir(dir, { force: true });
  assert.notEqual(again.root.sha256, r.root.sha256);
});

test('rotate keeps the old root in the bundle; a second rotate waits for retire-old', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pki-rot-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const first = await initCaDir(dir);
  await assert.rejects(retireOldCa(dir), /no rotation overlap/);
  const second = await rotateCaDir(dir);
  assert.equal(second.bundleRoots, 2);
  assert.notEqual(second.root.sha256, first.root.sha256);
  await assert.rejects(rotateCaDir(dir), /overlap is open/);
  assert.equal((await retireOldCa(dir)).bundleRoots, 1);
  const [only] = parsePemCertificates(await readFile(join(dir, 'bundle.pem'), 'utf8'));
  assert.equal(only!.subject, second.root.subject);
});
