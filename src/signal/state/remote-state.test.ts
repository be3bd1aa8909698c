import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApiServer, type ApiServer } from '../../agent/api-server.ts';
import type { GpuState } from '../../core/gpu.ts';
import type { ModelState } from '../../core/types.ts';
import { createGpuStore, type GpuStore } from './gpu-store.ts';
import { createRemoteStateSubscriber } from './remote-state.ts';
import { statePlaneRoutes } from './state-plane-service.ts';
import { createStateStore, type StateStore } from './state-store.ts';

const state = (endpointId: string, model = 'm1', extra: Partial<ModelState> = {}): ModelState => ({
  endpointId,
  endpointUrl: `http://${endpointId}`,
  node: endpointId.split('/')[0]!,
  model,
  runtime: 'vllm',
  health: 'healthy',
  loaded: true,
  warming: false,
  queueDepth: 0,
  updatedAt: 1000,
  ...extra,
});

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const serve = (store: StateStore, nodeId: string, port = 0, gpus?: GpuStore): Promise<ApiServer> =>
  createApiServer({ host: '127.0.0.1', port, routes: statePlaneRoutes({ store, nodeId, gpus }) });

/** `endpointId:health` of every record, sorted: what the router sees. */
const view = (store: StateStore) =>
  store
    .list()
    .map((s) => `${s.endpointId}:${s.health}`)
    .sort();

test('mirrors two peers into one store, survives a peer restart, and cleans up on stop', async (t) => {
  const peerA = createStateStore();
  const peerB = createStateStore();
  peerA.upsert(state('a/1'));
  peerA.upsert(state('a/2'));
  peerB.upsert(state('b/1', 'm2'));
  let apiA = await serve(peerA, 'a');
  const apiB = await serve(peerB, 'b');
  t.after(() => Promise.all([apiA.close(), apiB.close()]));

  const local = createStateStore();
  const opts = { store: local, reconnectMs: 20, maxReconnectMs: 100 };
  const subA = createRemoteStateSubscriber({ ...opts, url: apiA.url });
  const subB = createRemoteStateSubscriber({ ...opts, url: apiB.url });
  t.after(() => Promise.all([subA.stop(), subB.stop()]));
  subA.start();
  subB.start();

  await until('both snapshots', () => subA.connected() && subB.connected());
  assert.deepEqual(view(local), ['a/1:healthy', 'a/2:healthy', 'b/1:healthy']);
  assert.equal(subA.peerNodeId(), 'a');
  assert.deepEqual(local.get('a/1', 'm1'), peerA.get('a/1', 'm1'));

  // Deltas flow.
  peerA.upsert(state('a/3', 'm1', { queueDepth: 7 }));
  peerA.remove('a/1', 'm1');
  await until('deltas', () => local.get('a/3', 'm1')?.queueDepth === 7 && !local.get('a/1', 'm1'));

  // Peer A goes away: its records stay, marked unhealthy; peer B is untouched.
  const port = apiA.port;
  await apiA.close();
  await until(
    'unhealthy after break',
    () => !subA.connected() && local.get('a/2', 'm1')?.health === 'unhealthy',
  );
  assert.deepEqual(view(local), ['a/2:unhealthy', 'a/3:unhealthy', 'b/1:healthy']);

  // While it is down its state changes; after the restart the new snapshot replaces the old.
  peerA.remove('a/2', 'm1');
  peerA.upsert(state('a/4'));
  apiA = await serve(peerA, 'a', port);
  await until('reconnected', () => subA.connected() && local.get('a/4', 'm1') !== undefined);
  assert.deepEqual(view(local), ['a/3:healthy', 'a/4:healthy', 'b/1:healthy']);

  // stop() ends the stream promptly and removes what it mirrored.
  const started = Date.now();
  await subA.stop();
  assert.ok(Date.now() - started < 1000);
  assert.deepEqual(view(local), ['b/1:healthy']);
  assert.equal(subA.connected(), false);
});

test('keeps retrying with bounded backoff while the peer is not there yet', async (t) => {
  // Reserve a port, then free it, so the first attempts are refused.
  const probe = await serve(createStateStore(), 'x');
  const port = probe.port;
  await probe.close();

  const local = createStateStore();
  const sub = createRemoteStateSubscriber({
    url: `http://127.0.0.1:${port}`,
    store: local,
    reconnectMs: 20,
    maxReconnectMs: 80,
  });
  t.after(() => sub.stop());
  sub.start();
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(sub.connected(), false);

  const peer = createStateStore();
  peer.upsert(state('late/1'));
  const api = await serve(peer, 'late', port);
  t.after(() => api.close());
  // With the delay capped at 80 ms (±20 %), the subscriber finds the peer quickly.
  await until('connected to late peer', () => sub.connected(), 2000);
  assert.deepEqual(view(local), ['late/1:healthy']);
});

const gpu = (uuid: string, extra: Partial<GpuState> = {}): GpuState => ({
  uuid,
  index: 0,
  name: 'H100',
  node: 'a',
  healthy: true,
  updatedAt: 1000,
  source: 'sim',
  ...extra,
});

/** `uuid:healthy[:reason]` of every GPU record: what the router's endpoint gate sees. */
const gpuView = (gpus: GpuStore) =>
  gpus.list().map((g) => [g.uuid, g.healthy, g.quarantineReason].filter((x) => x !== undefined).join(':'));

test('mirrors the peer’s GPU states, quarantine included, with the same break and stop rules', async (t) => {
  const peerGpus = createGpuStore();
  peerGpus.upsert(gpu('GPU-1'));
  peerGpus.upsert(gpu('GPU-2', { index: 1 }));
  let api = await serve(createStateStore(), 'a', 0, peerGpus);
  t.after(() => api.close());

  const gpus = createGpuStore();
  gpus.upsert(gpu('GPU-local', { node: 'router' }));
  const sub = createRemoteStateSubscriber({
    url: api.url,
    store: createStateStore(),
    gpus,
    reconnectMs: 20,
    maxReconnectMs: 100,
  });
  t.after(() => sub.stop());
  sub.start();
  await until('GPU snapshot', () => gpus.list().length === 3);
  assert.deepEqual(gpus.get('a', 'GPU-2'), peerGpus.get('a', 'GPU-2'));

  // The peer quarantines a GPU, then the operator releases it.
  peerGpus.upsert(gpu('GPU-1', { healthy: false, quarantineReason: 'temperature: 97 C >= 90 C' }));
  await until('quarantine mirrored', () => gpus.get('a', 'GPU-1')?.healthy === false);
  assert.deepEqual(gpuView(gpus), ['GPU-1:false:temperature: 97 C >= 90 C', 'GPU-2:true', 'GPU-local:true']);
  peerGpus.upsert(gpu('GPU-1'));
  await until('release mirrored', () => gpus.get('a', 'GPU-1')?.healthy === true);

  // The peer goes away: its GPUs are kept but no longer trusted; the router's own are untouched.
  const port = api.port;
  await api.close();
  await until('unhealthy after break', () => gpus.get('a', 'GPU-2')?.healthy === false);
  assert.deepEqual(gpuView(gpus), ['GPU-1:false', 'GPU-2:false', 'GPU-local:true']);

  // Back with one GPU fewer: the snapshot replaces what was held.
  peerGpus.remove('a', 'GPU-2');
  api = await serve(createStateStore(), 'a', port, peerGpus);
  // The snapshot's records arrive first, the removal of what it lacks at its end.
  await until('reconnected', () => gpus.get('a', 'GPU-1')?.healthy === true && !gpus.get('a', 'GPU-2'));
  assert.deepEqual(gpuView(gpus), ['GPU-1:true', 'GPU-local:true']);

  await sub.stop();
  assert.deepEqual(gpuView(gpus), ['GPU-local:true']);
});
