// Renewal at 2/3 of the lifetime, on an injected wall clock; the new files are a working pair.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initCaDir } from './ca-dir.ts';
import { createCertReloader } from './cert-reloader.ts';
import { issueToFiles } from './issue-files.ts';
import { renewalTime, startRenewal } from './renewal.ts';

test('renewalTime is two thirds into the lifetime by default', () => {
  const at = renewalTime(new Date(0), new Date(24 * 3_600_000));
  assert.equal(at.getTime(), 16 * 3_600_000);
});

test('startRenewal issues when missing, waits until 2/3, then reissues', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pki-renew-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await initCaDir(join(dir, 'ca'));
  const certFile = join(dir, 'node', 'node.crt');
  const keyFile = join(dir, 'node', 'node.key');
  let clock = new Date();
  const renewed: string[] = [];
  const opts = {
    caDir: join(dir, 'ca'),
    nodeId: 'gpu-1',
    roles: ['gpu'],
    certFile,
    keyFile,
    now: () => clock,
  };
  const r = startRenewal({ ...opts, onRenew: (i) => renewed.push(i.serial) });
  t.after(() => r.stop());
  await r.check();
  assert.equal(renewed.length, 1, 'issued at once: no file yet');
  const next = r.nextAt()!;
  assert.ok(
    Math.abs(next.getTime() - (clock.getTime() + 16 * 3_600_000)) < 120_000,
    `next at ${next.toISOString()}`,
  );
  await r.check();
  assert.equal(renewed.length, 1, 'not due yet');
  const reloader = await createCertReloader({
    certFile,
    keyFile,
    caFile: join(dir, 'ca', 'bundle.pem'),
    pollMs: 100_000,
  });
  t.after(() => reloader.close());
  clock = new Date(next.getTime() + 1000);
  await r.check();
  assert.equal(renewed.length, 2, 'due: reissued');
  assert.ok(await reloader.reload());
  assert.equal(reloader.current().serial, renewed[1]);
  // A certificate of another identity in the files is replaced at once.
  await issueToFiles({
    caDir: join(dir, 'ca'),
    kind: 'node',
    id: 'someone-else',
    roles: ['gpu'],
    certFile,
    keyFile,
    bundleFile: false,
  });
  await r.check();
  assert.equal(renewed.length, 3);
});
