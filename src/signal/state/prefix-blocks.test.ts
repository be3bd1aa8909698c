import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApiServer, type ApiServer } from '../../agent/api-server.ts';
import { createPrefixBlockHub, feedLocalPrefixBlocks, type PrefixBlocksUpdate } from './prefix-blocks.ts';
import { createRemotePrefixBlocksSubscriber } from './remote-prefix-blocks.ts';
import { statePlaneRoutes } from './state-plane-service.ts';
import { createStateStore } from './state-store.ts';

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const update = (endpointId: string, p: Partial<PrefixBlocksUpdate>): PrefixBlocksUpdate => ({
  endpointId,
  blockSize: 16,
  reset: false,
  added: [],
  removed: [],
  rebuilding: false,
  ...p,
});

const serve = (hub: ReturnType<typeof createPrefixBlockHub>, port = 0): Promise<ApiServer> =>
  createApiServer({
    host: '127.0.0.1',
    port,
    routes: statePlaneRoutes({ store: createStateStore(), nodeId: 'g', prefixBlocks: hub }),
  });

const sorted = (s: ReadonlySet<number> | undefined) => [...(s ?? [])].sort((a, b) => a - b);

test('the hub keeps sets per endpoint; the local feed hands a same-node router the snapshot, then every update', () => {
  const hub = createPrefixBlockHub();
  hub.apply(update('g/a', { added: [1, 2, 3] }));
  const mirror = createPrefixBlockHub();
  const stop = feedLocalPrefixBlocks(hub, mirror);
  assert.deepEqual(sorted(mirror.blocks('g/a')), [1, 2, 3]);
  hub.apply(update('g/a', { added: [4], removed: [1] }));
  hub.apply(update('g/b', { blockSize: 32, added: [9] }));
  assert.deepEqual(sorted(mirror.blocks('g/a')), [2, 3, 4]);
  assert.deepEqual(mirror.snapshot().find((u) => u.endpointId === 'g/b')?.blockSize, 32);
  hub.apply(update('g/a', { reset: true, added: [7] }));
  assert.deepEqual(sorted(mirror.blocks('g/a')), [7]);
  hub.apply(update('g/b', { gone: true }));
  assert.equal(mirror.blocks('g/b'), undefined);
  stop();
  hub.apply(update('g/a', { added: [8] }));
  assert.deepEqual(sorted(mirror.blocks('g/a')), [7]);
});

test('WatchPrefixBlocks streams snapshot and deltas to a router; it survives a restart and cleans up on stop', async (t) => {
  const hub = createPrefixBlockHub();
  hub.apply(update('g/a', { added: [1, 2, 2 ** 52 - 1] })); // keys are 52-bit: exact on the wire
  hub.apply(update('g/b', { added: [5], rebuilding: true }));
  let api = await serve(hub);
  const port = Number(new URL(api.url).port);
  t.after(() => api.close());
  const mirror = createPrefixBlockHub();
  const seen: PrefixBlocksUpdate[] = [];
  const sub = createRemotePrefixBlocksSubscriber({
    url: api.url,
    sink: { apply: (u) => (seen.push(u), mirror.apply(u)) },
    reconnectMs: 20,
    maxReconnectMs: 100,
  });
  t.after(() => sub.stop());
  sub.start();
  await until('snapshot', () => sub.connected());
  assert.deepEqual(sorted(mirror.blocks('g/a')), [1, 2, 2 ** 52 - 1]);
  assert.equal(seen.find((u) => u.endpointId === 'g/b')?.rebuilding, true);
  assert.deepEqual(sub.endpoints().sort(), ['g/a', 'g/b']);

  hub.apply(update('g/a', { added: [3], removed: [1] }));
  hub.apply(update('g/a', { added: [4] }));
  await until('deltas', () => mirror.blocks('g/a')?.has(4) === true);
  assert.deepEqual(sorted(mirror.blocks('g/a')), [2, 3, 4, 2 ** 52 - 1]);
  hub.apply(update('g/b', { gone: true }));
  await until('gone', () => mirror.blocks('g/b') === undefined);

  // The gpu node restarts with other state: the new snapshot replaces the old.
  await api.close();
  const hub2 = createPrefixBlockHub();
  hub2.apply(update('g/c', { added: [42] }));
  api = await serve(hub2, port);
  await until('resnapshot', () => mirror.blocks('g/c') !== undefined && mirror.blocks('g/a') === undefined);
  assert.deepEqual(sorted(mirror.blocks('g/c')), [42]);

  await sub.stop();
  assert.equal(mirror.snapshot().length, 0);
});

test('a node without prefix state answers an empty snapshot', async (t) => {
  const api = await createApiServer({
    host: '127.0.0.1',
    port: 0,
    routes: statePlaneRoutes({ store: createStateStore(), nodeId: 'g' }),
  });
  t.after(() => api.close());
  const mirror = createPrefixBlockHub();
  const sub = createRemotePrefixBlocksSubscriber({ url: api.url, sink: mirror });
  t.after(() => sub.stop());
  sub.start();
  await until('snapshot', () => sub.connected());
  assert.equal(mirror.snapshot().length, 0);
});
