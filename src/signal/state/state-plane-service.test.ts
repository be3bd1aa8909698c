import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectError } from '@connectrpc/connect';
import { Code, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { createApiServer } from '../../agent/api-server.ts';
import type { ModelState } from '../../core/types.ts';
import { StatePlane, type ModelStateEvent } from '../../gen/infermesh/state/v1/state_pb.js';
import { statePlaneRoutes } from './state-plane-service.ts';
import { createStateStore, type StateStore } from './state-store.ts';

const state = (endpointId: string, model: string, extra: Partial<ModelState> = {}): ModelState => ({
  endpointId,
  endpointUrl: `http://${endpointId}`,
  node: endpointId.split('/')[0]!,
  model,
  runtime: 'vllm',
  health: 'healthy',
  loaded: true,
  warming: false,
  updatedAt: 1000,
  ...extra,
});

/** A store that counts live watchers, so a test can see a watch end on the server side. */
function countingStore(): StateStore & { watchers(): number } {
  const store = createStateStore();
  let live = 0;
  return {
    ...store,
    watch(listener) {
      live++;
      const off = store.watch(listener);
      return () => {
        live--;
        return off();
      };
    },
    watchers: () => live,
  };
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function serve(store: StateStore) {
  const api = await createApiServer({
    host: '127.0.0.1',
    port: 0,
    routes: statePlaneRoutes({ store, nodeId: 'gpu-1' }),
  });
  return { api, client: createClient(StatePlane, createGrpcTransport({ baseUrl: api.url })) };
}

const describe = (e: ModelStateEvent) =>
  e.event.case === 'snapshotDone'
    ? `done:${e.event.value.count}:${e.event.value.nodeId}`
    : `${e.event.case}:${e.event.value?.endpointId}:${e.event.value?.labels?.model}`;

test('ListModelStates filters by model, runtime, node and loaded_only; GetModelState finds one', async (t) => {
  const store = createStateStore();
  store.upsert(state('gpu-1/a', 'm1'));
  store.upsert(state('gpu-1/b', 'm2', { runtime: 'sglang', loaded: false }));
  store.upsert(state('gpu-2/a', 'm1', { queueDepth: 4 }));
  const { api, client } = await serve(store);
  t.after(() => api.close());

  const ids = async (req: Parameters<typeof client.listModelStates>[0]) =>
    (await client.listModelStates(req)).states.map((s) => `${s.endpointId}:${s.labels?.model}`);
  assert.deepEqual(await ids({}), ['gpu-1/a:m1', 'gpu-1/b:m2', 'gpu-2/a:m1']);
  assert.deepEqual(await ids({ modelFilter: 'm1' }), ['gpu-1/a:m1', 'gpu-2/a:m1']);
  assert.deepEqual(await ids({ runtimeFilter: 'sglang' }), ['gpu-1/b:m2']);
  assert.deepEqual(await ids({ nodeFilter: 'gpu-2' }), ['gpu-2/a:m1']);
  assert.deepEqual(await ids({ loadedOnly: true }), ['gpu-1/a:m1', 'gpu-2/a:m1']);

  const exact = await client.getModelState({ endpointId: 'gpu-2/a', labels: { model: 'm1' } });
  assert.equal(exact.found, true);
  assert.equal(exact.state?.queueDepth, 4);
  const byLabels = await client.getModelState({ labels: { model: 'm1', node: 'gpu-2' } });
  assert.equal(byLabels.state?.endpointId, 'gpu-2/a');
  const missing = await client.getModelState({ labels: { model: 'nope' } });
  assert.deepEqual([missing.found, missing.state], [false, undefined]);
  await assert.rejects(client.getModelState({}), (e: ConnectError) => e.code === Code.InvalidArgument);
});

test('WatchModelStates sends the snapshot, a marker, then every change, and stops on cancel', async (t) => {
  const store = countingStore();
  store.upsert(state('gpu-1/b', 'm1'));
  store.upsert(state('gpu-1/a', 'm1'));
  const { api, client } = await serve(store);
  t.after(() => api.close());

  const abort = new AbortController();
  const it = client.watchModelStates({}, { signal: abort.signal })[Symbol.asyncIterator]();
  const next = async () => describe((await it.next()).value as ModelStateEvent);
  assert.deepEqual(
    [await next(), await next(), await next()],
    ['upsert:gpu-1/a:m1', 'upsert:gpu-1/b:m1', 'done:2:gpu-1'],
  );
  store.upsert(state('gpu-2/a', 'm2'));
  assert.equal(await next(), 'upsert:gpu-2/a:m2');
  store.remove('gpu-1/a', 'm1');
  assert.equal(await next(), 'remove:gpu-1/a:m1');
  assert.equal(store.watchers(), 1);

  abort.abort();
  await assert.rejects(it.next(), (e: ConnectError) => e.code === Code.Canceled);
  await until(() => store.watchers() === 0);
});

test('a filtered watch sends records that stop matching as removes', async (t) => {
  const store = createStateStore();
  store.upsert(state('gpu-1/a', 'm1'));
  store.upsert(state('gpu-1/a', 'm2'));
  const { api, client } = await serve(store);
  t.after(() => api.close());

  const abort = new AbortController();
  t.after(() => abort.abort());
  const stream = client.watchModelStates({ modelFilter: 'm1', loadedOnly: true }, { signal: abort.signal });
  const it = stream[Symbol.asyncIterator]();
  const next = async () => describe((await it.next()).value as ModelStateEvent);
  assert.deepEqual([await next(), await next()], ['upsert:gpu-1/a:m1', 'done:1:gpu-1']);
  store.upsert(state('gpu-1/a', 'm2', { queueDepth: 1 })); // other model: not sent
  store.upsert(state('gpu-1/a', 'm1', { loaded: false })); // unloads: leaves the filter
  assert.equal(await next(), 'remove:gpu-1/a:m1');
  store.upsert(state('gpu-1/a', 'm1', { loaded: true }));
  assert.equal(await next(), 'upsert:gpu-1/a:m1');
});

test('changes that pile up for a slow reader are coalesced to the latest per record', async (t) => {
  const store = createStateStore();
  const { api, client } = await serve(store);
  t.after(() => api.close());
  const abort = new AbortController();
  t.after(() => abort.abort());
  const it = client.watchModelStates({}, { signal: abort.signal })[Symbol.asyncIterator]();
  assert.equal(describe((await it.next()).value as ModelStateEvent), 'done:0:gpu-1');
  // Synchronous burst: the handler sees all of it before it can send anything.
  for (let i = 1; i <= 100; i++) store.upsert(state('gpu-1/a', 'm1', { queueDepth: i }));
  store.upsert(state('gpu-1/b', 'm1'));
  const first = (await it.next()).value as ModelStateEvent;
  assert.equal(first.event.case === 'upsert' && first.event.value.queueDepth, 100);
  assert.equal(describe((await it.next()).value as ModelStateEvent), 'upsert:gpu-1/b:m1');
});
