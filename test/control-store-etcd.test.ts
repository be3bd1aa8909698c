// The etcd store against real Debian etcd: the shared contract on one member, then a three-member
// cluster losing and regaining quorum.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { MeshError } from '../src/core/errors.ts';
import { createEtcdStore } from '../src/control/store/etcd.ts';
import type { ControlStore, StoreEvent } from '../src/control/store/types.ts';
import { etcdSkipReason, startEtcd, type EtcdCluster } from './helpers/etcd.ts';
import { registerStoreContract } from './helpers/store-contract.ts';

const skip = etcdSkipReason();
let single: Promise<EtcdCluster> | undefined;
const singleMember = () => (single ??= startEtcd({ members: 1 }));
after(async () => {
  if (single) await (await single).close();
});

let namespaces = 0;
registerStoreContract('etcd', {
  skip,
  async open() {
    const { endpoints } = await singleMember();
    // Each test in its own prefix: they share the member.
    return createEtcdStore({ endpoints, prefix: `/infermesh-test/${process.pid}-${namespaces++}/` });
  },
  async compact(_store, revision) {
    const client = new Etcd3({ hosts: (await singleMember()).endpoints });
    try {
      await client.kv.compact({ revision, physical: true });
    } finally {
      client.close();
    }
  },
});

const isUnavailable = (e: unknown) => e instanceof MeshError && e.code === 'unavailable';

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

test('etcd: three members, quorum lost and regained', { skip, timeout: 60_000 }, async (t) => {
  const cluster = await startEtcd({ members: 3 });
  let store: ControlStore | undefined;
  try {
    store = await createEtcdStore({ endpoints: cluster.endpoints, healthIntervalMs: 500 });
    const s = store;
    assert.equal(s.health().writable, true);

    const batches: StoreEvent[][] = [];
    const errors: Error[] = [];
    const watch = s.watch('q/', {
      onEvents: (events) => batches.push(events),
      onError: (e) => errors.push(e),
    });
    // The watch is attached once it reports its first write.
    await s.put('q/probe', '0');
    await until('watch attached', () => batches.length > 0, 5000);
    for (let i = 0; i < 3; i++) await s.put(`q/before-${i}`, JSON.stringify(i));

    await cluster.stop(0);
    await cluster.stop(1);
    const detecting = until('health says not writable', () => !s.health().writable, 10_000);
    // A transaction sent as quorum goes: it fails (bounded by the request deadline) and is all or nothing.
    const inFlight = s.txn(
      [],
      [0, 1, 2].map((i) => ({ put: `q/torn-${i}`, value: JSON.stringify(i) })),
    );
    const sentAt = Date.now();
    const inFlightResult = await inFlight.then(
      () => 'applied',
      (e: unknown) => (isUnavailable(e) ? 'unavailable' : e),
    );
    assert.ok(inFlightResult === 'unavailable' || inFlightResult === 'applied', String(inFlightResult));
    t.diagnostic(`txn sent as quorum went: ${String(inFlightResult)} after ${Date.now() - sentAt} ms`);

    const detectMs = await detecting;
    t.diagnostic(`quorum loss seen by health() ${detectMs} ms after the members stopped`);
    assert.match(s.health().reason ?? '', /no quorum/);

    // Now writes and reads are refused at once.
    for (const attempt of [
      () => s.put('q/lost', '1'),
      () =>
        s.txn(
          [],
          [
            { put: 'q/lost-a', value: '1' },
            { put: 'q/lost-b', value: '2' },
          ],
        ),
      () => s.get('q/probe'),
      () => s.list('q/'),
    ]) {
      const start = Date.now();
      await assert.rejects(
        attempt(),
        (e: unknown) => isUnavailable(e) && /no quorum/.test((e as Error).message),
      );
      assert.ok(Date.now() - start < 2000, `refused in ${Date.now() - start} ms`);
    }

    await cluster.start(0);
    await cluster.start(1);
    const backMs = await until('writable again', () => s.health().writable, 20_000);
    t.diagnostic(`writable again ${backMs} ms after the members restarted`);
    const afterRevs: number[] = [];
    for (let i = 0; i < 3; i++) afterRevs.push(await s.put(`q/after-${i}`, JSON.stringify(i)));

    // Nothing half-applied: the torn-* transaction is entirely there or entirely absent.
    const torn = (await s.list('q/torn-')).entries;
    assert.ok(torn.length === 0 || torn.length === 3, `${torn.length} of 3 keys of one transaction`);
    assert.equal((await s.list('q/lost')).entries.length, 0);

    // The watch opened before the loss delivers every write, once, in order, without being recreated.
    await until(
      'watch caught up',
      () => batches.flat().some((e) => e.entry.modRevision === afterRevs[2]),
      10_000,
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(errors, []);
    const events = batches.flat();
    const revs = events.map((e) => e.entry.modRevision);
    assert.deepEqual(
      revs,
      [...revs].sort((a, b) => a - b),
    );
    const ids = events.map((e) => `${e.entry.modRevision} ${e.entry.key}`);
    assert.equal(new Set(ids).size, ids.length, `an event was delivered twice: ${ids.join(', ')}`);
    const { entries } = await s.list('q/');
    assert.deepEqual(events.map((e) => e.entry.key).sort(), entries.map((e) => e.key).sort());
    for (const entry of entries) {
      assert.ok(revs.includes(entry.modRevision), `no event for ${entry.key}@${entry.modRevision}`);
    }
    watch.close();
  } finally {
    await store?.close();
    await cluster.close();
  }
});
