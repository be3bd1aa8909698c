/**
 * The ControlStore contract, as tests any store must pass: the embedded store and etcd register the
 * same tests with their own factory, so the layers above can rely on one behaviour.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MeshError } from '../../src/core/errors.ts';
import type { ControlStore, StoreEvent, StoreWatchOptions } from '../../src/control/store/types.ts';

export interface StoreFactory {
  /** A fresh, empty store (its own namespace); the test closes it. */
  open(): Promise<ControlStore>;
  /** Makes the store forget history up to and including `revision`. */
  compact(store: ControlStore, revision: number): Promise<void>;
  /** Passed to node:test (e.g. a skip reason). */
  skip?: string | false;
}

/** Collects watch batches until `count` events arrived (or fails after `timeoutMs`). */
export async function collectEvents(
  store: ControlStore,
  prefix: string,
  opts: Omit<StoreWatchOptions, 'onEvents' | 'onError'>,
  count: number,
  during: () => Promise<void> = async () => {},
  timeoutMs = 5000,
): Promise<StoreEvent[][]> {
  const batches: StoreEvent[][] = [];
  let seen = 0;
  let done!: () => void;
  let failed!: (err: Error) => void;
  const finished = new Promise<void>((resolve, reject) => ((done = resolve), (failed = reject)));
  const watch = store.watch(prefix, {
    ...opts,
    onEvents(events) {
      batches.push(events);
      seen += events.length;
      if (seen >= count) done();
    },
    onError: (err) => failed(err),
  });
  const timer = setTimeout(
    () => failed(new Error(`only ${seen} of ${count} events in ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    await during();
    await finished;
    // A little longer: an extra (duplicate) event would show up here.
    await new Promise((r) => setTimeout(r, 50));
  } finally {
    clearTimeout(timer);
    watch.close();
  }
  return batches;
}

const json = (v: unknown) => JSON.stringify(v);

/** Registers the contract tests for `name` with `factory`. */
export function registerStoreContract(name: string, factory: StoreFactory): void {
  const skip = factory.skip ?? false;
  const withStore = (title: string, body: (store: ControlStore) => Promise<void>): void => {
    test(`${name}: ${title}`, { skip, timeout: 20_000 }, async () => {
      const store = await factory.open();
      try {
        await body(store);
      } finally {
        await store.close();
      }
    });
  };

  withStore('put, get and delete keep revisions and versions', async (store) => {
    const r1 = await store.put('a/x', json(1));
    const e1 = await store.get('a/x');
    assert.deepEqual(e1, { key: 'a/x', value: '1', createRevision: r1, modRevision: r1, version: 1 });
    const r2 = await store.put('a/x', json(2));
    assert.ok(r2 > r1);
    assert.deepEqual(await store.get('a/x'), {
      key: 'a/x',
      value: '2',
      createRevision: r1,
      modRevision: r2,
      version: 2,
    });
    assert.equal(await store.delete('a/x'), true);
    assert.equal(await store.get('a/x'), undefined);
    assert.equal(await store.delete('a/x'), false);
    const r3 = await store.put('a/x', json(3));
    assert.ok(r3 > r2);
    assert.equal((await store.get('a/x'))?.createRevision, r3);
    assert.equal((await store.get('a/x'))?.version, 1);
    assert.equal(store.health().writable, true);
    assert.ok(store.health().revision >= r3);
  });

  withStore('values must be JSON and keys non-empty', async (store) => {
    await assert.rejects(
      store.put('k', 'not json'),
      (e: unknown) => (e as MeshError).code === 'invalid_request',
    );
    await assert.rejects(store.put('', '1'), (e: unknown) => (e as MeshError).code === 'invalid_request');
    await assert.rejects(
      store.txn([], [{ put: 'k', value: '1' }, { delete: 'k' }]),
      (e: unknown) => (e as MeshError).code === 'invalid_request',
    );
  });

  withStore('compare-and-swap: a failing compare applies nothing', async (store) => {
    const r1 = await store.put('cas/k', json('v1'));
    const stale = await store.txn(
      [{ key: 'cas/k', modRevision: r1 - 1 }],
      [
        { put: 'cas/k', value: json('lost') },
        { put: 'cas/other', value: json('lost') },
        { deletePrefix: 'other/' },
      ],
    );
    assert.deepEqual(stale, { succeeded: false, revision: r1 });
    assert.equal((await store.get('cas/k'))?.value, json('v1'));
    assert.equal(await store.get('cas/other'), undefined);

    const ok = await store.txn(
      [
        { key: 'cas/k', modRevision: r1 },
        { key: 'cas/new', exists: false },
      ],
      [
        { put: 'cas/k', value: json('v2') },
        { put: 'cas/new', value: json('n') },
      ],
    );
    assert.equal(ok.succeeded, true);
    assert.ok(ok.revision > r1);
    const [k, n] = [await store.get('cas/k'), await store.get('cas/new')];
    // One transaction, one revision.
    assert.equal(k?.modRevision, ok.revision);
    assert.equal(n?.modRevision, ok.revision);
    // Create-if-absent loses once the key exists; modRevision 0 means "absent".
    assert.equal(
      (await store.txn([{ key: 'cas/new', exists: false }], [{ delete: 'cas/k' }])).succeeded,
      false,
    );
    assert.equal((await store.txn([{ key: 'cas/none', modRevision: 0 }], [])).succeeded, true);
    assert.equal((await store.get('cas/k'))?.value, json('v2'));
  });

  withStore('list by prefix, sorted, and deletePrefix', async (store) => {
    for (const key of ['p/b', 'p/a', 'p/c/d', 'pz', 'q/a']) await store.put(key, json(key));
    const { entries, revision } = await store.list('p/');
    assert.deepEqual(
      entries.map((e) => e.key),
      ['p/a', 'p/b', 'p/c/d'],
    );
    assert.ok(revision >= Math.max(...entries.map((e) => e.modRevision)));
    const res = await store.txn([], [{ deletePrefix: 'p/' }]);
    assert.equal(res.succeeded, true);
    assert.deepEqual((await store.list('p/')).entries, []);
    assert.deepEqual(
      (await store.list('')).entries.map((e) => e.key),
      ['pz', 'q/a'],
    );
  });

  withStore('watch from a revision: catch-up then live, no gap, no duplicate', async (store) => {
    const revs: number[] = [];
    for (let i = 0; i < 5; i++) revs.push(await store.put(`w/${i}`, json(i)));
    await store.put('other/x', json('not watched'));
    const batches = await collectEvents(store, 'w/', { fromRevision: revs[1]! }, 4 + 3, async () => {
      await store.put('w/live', json('a'));
      await store.txn(
        [],
        [
          { put: 'w/t1', value: json(1) },
          { put: 'w/t2', value: json(2) },
        ],
      );
    });
    const events = batches.flat();
    assert.deepEqual(
      events.map((e) => e.entry.key),
      ['w/1', 'w/2', 'w/3', 'w/4', 'w/live', 'w/t1', 'w/t2'],
    );
    const eventRevs = events.map((e) => e.entry.modRevision);
    assert.deepEqual(eventRevs.slice(0, 4), revs.slice(1));
    for (let i = 1; i < eventRevs.length; i++) assert.ok(eventRevs[i]! >= eventRevs[i - 1]!);
    // The transaction's two puts arrive as one batch.
    assert.deepEqual(
      batches.at(-1)!.map((e) => e.entry.key),
      ['w/t1', 'w/t2'],
    );
    assert.equal(events[0]!.entry.value, json(1));
    assert.equal(events[0]!.type, 'put');
  });

  withStore('watch without a revision sees only later writes; deletes are events', async (store) => {
    await store.put('n/old', json(0));
    const batches = await collectEvents(store, 'n/', {}, 5, async () => {
      await new Promise((r) => setTimeout(r, 100));
      await store.put('n/a', json(1));
      await store.put('n/b', json(2));
      await store.txn([], [{ deletePrefix: 'n/' }]);
    });
    const events = batches.flat();
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.entry.key}`),
      ['put n/a', 'put n/b', 'delete n/a', 'delete n/b', 'delete n/old'],
    );
    // deletePrefix is one transaction: one batch, one revision.
    const last = batches.at(-1)!;
    assert.equal(last.length, 3);
    assert.ok(last.every((e) => e.type === 'delete' && e.entry.value === ''));
    assert.equal(new Set(last.map((e) => e.entry.modRevision)).size, 1);
  });

  withStore('a watch from a compacted revision fails with not_found', async (store) => {
    const first = await store.put('c/a', json(1));
    for (let i = 0; i < 3; i++) await store.put('c/a', json(i));
    await factory.compact(store, first + 1);
    const err = await new Promise<Error>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no onError in 5 s')), 5000);
      const w = store.watch('c/', {
        fromRevision: first,
        onEvents: () => reject(new Error('events from a compacted revision')),
        onError(e) {
          clearTimeout(timer);
          w.close();
          resolve(e);
        },
      });
    });
    assert.ok(err instanceof MeshError);
    assert.equal(err.code, 'not_found');
  });

  withStore('leases: keys go with the lease', async (store) => {
    const lease = await store.grantLease(5);
    assert.match(lease.id, /^[0-9]+$/);
    await store.put('l/a', json(1), { lease: lease.id });
    await store.txn([], [{ put: 'l/b', value: json(2), lease: lease.id }]);
    await store.put('l/keep', json(3));
    assert.equal((await store.get('l/a'))?.lease, lease.id);
    assert.equal((await store.get('l/keep'))?.lease, undefined);
    const batches = await collectEvents(store, 'l/', {}, 2, () => lease.revoke());
    assert.deepEqual(
      batches
        .flat()
        .map((e) => `${e.type} ${e.entry.key}`)
        .sort(),
      ['delete l/a', 'delete l/b'],
    );
    assert.deepEqual(
      (await store.list('l/')).entries.map((e) => e.key),
      ['l/keep'],
    );
  });
}
