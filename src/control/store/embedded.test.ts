import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeshError } from '../../core/errors.ts';
import { createEmbeddedStore } from './embedded.ts';
import { collectEvents, registerStoreContract } from '../../../test/helpers/store-contract.ts';

const HISTORY = 20;

registerStoreContract('embedded', {
  open: async () => createEmbeddedStore({ path: ':memory:', historyRevisions: HISTORY }),
  async compact(store, revision) {
    // History keeps the last HISTORY revisions: write past them.
    while (store.health().revision < revision + HISTORY) await store.put('zz/filler', '0');
  },
});

const tempFile = () => {
  const dir = mkdtempSync(join(tmpdir(), 'store-'));
  return {
    file: join(dir, 'nested', 'control.db'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
};

test('embedded: the file keeps keys, revision and history across reopen', async () => {
  const { file, cleanup } = tempFile();
  try {
    const a = createEmbeddedStore({ path: file });
    const r1 = await a.put('k/1', '"one"');
    const r2 = await a.put('k/2', '"two"');
    await a.close();
    const b = createEmbeddedStore({ path: file });
    assert.equal(b.health().revision, r2);
    assert.equal((await b.get('k/1'))?.modRevision, r1);
    // A watch in the new process resumes from the old revisions.
    const batches = await collectEvents(b, 'k/', { fromRevision: r1 }, 3, async () => {
      assert.equal(await b.put('k/3', '"three"'), r2 + 1);
    });
    assert.deepEqual(
      batches.flat().map((e) => e.entry.modRevision),
      [r1, r2, r2 + 1],
    );
    await b.close();
  } finally {
    cleanup();
  }
});

test('embedded: the same file cannot be opened twice in one process', async () => {
  const { file, cleanup } = tempFile();
  try {
    const a = createEmbeddedStore({ path: file });
    assert.throws(
      () => createEmbeddedStore({ path: join(file, '..', '.', 'control.db') }),
      (e: unknown) => e instanceof MeshError && /already open/.test(e.message),
    );
    await a.close();
    // Closed, it can be opened again.
    await createEmbeddedStore({ path: file }).close();
  } finally {
    cleanup();
  }
});

test('embedded: a crashed process’s leases end after their TTL on reopen', async () => {
  const { file, cleanup } = tempFile();
  try {
    const a = createEmbeddedStore({ path: file });
    const lease = await a.grantLease(2);
    await a.put('lease/a', '1', { lease: lease.id });
    await a.put('lease/b', '2');
    const before = a.health().revision;
    await a.close(); // like a crash: the lease is neither revoked nor kept alive any more

    // Reopened within the TTL: the key is still there.
    const b = createEmbeddedStore({ path: file });
    assert.ok(await b.get('lease/a'));
    await b.close();

    // Reopened after the TTL: the lease is revoked at open, with a delete event in history.
    const c = createEmbeddedStore({ path: file, clock: { now: () => Date.now() + 3000 } });
    assert.equal(await c.get('lease/a'), undefined);
    assert.ok(await c.get('lease/b'));
    const batches = await collectEvents(c, 'lease/', { fromRevision: before + 1 }, 1);
    assert.deepEqual(
      batches.flat().map((e) => `${e.type} ${e.entry.key}`),
      ['delete lease/a'],
    );
    await assert.rejects(c.put('lease/x', '1', { lease: lease.id }), (e: unknown) => {
      return e instanceof MeshError && e.code === 'not_found';
    });
    await c.close();
  } finally {
    cleanup();
  }
});

test('embedded: an orphaned lease still within its TTL ends when it expires', async () => {
  const { file, cleanup } = tempFile();
  try {
    const a = createEmbeddedStore({ path: file });
    const lease = await a.grantLease(1);
    await a.put('o/a', '1', { lease: lease.id });
    await a.close();
    const b = createEmbeddedStore({ path: file });
    const batches = await collectEvents(b, 'o/', {}, 1, async () => {}, 3000);
    assert.equal(batches.flat()[0]?.type, 'delete');
    assert.equal(await b.get('o/a'), undefined);
    await b.close();
  } finally {
    cleanup();
  }
});

test('embedded: a closed store refuses calls and ends its watches', async () => {
  const store = createEmbeddedStore({ path: ':memory:' });
  const errors: Error[] = [];
  store.watch('', { onEvents: () => {}, onError: (e) => errors.push(e) });
  await store.close();
  assert.equal(errors.length, 1);
  assert.equal(store.health().writable, false);
  await assert.rejects(
    store.put('k', '1'),
    (e: unknown) => e instanceof MeshError && e.code === 'unavailable',
  );
});
