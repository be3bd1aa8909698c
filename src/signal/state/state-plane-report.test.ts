// ReportModelState / ReportGpuState over gRPC (bidi) and the GPU RPCs over gRPC and Connect JSON,
// against a real API server on port 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { createClient, type ConnectError } from '@connectrpc/connect';
import { Code } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { createApiServer } from '../../agent/api-server.ts';
import type { GpuState } from '../../core/gpu.ts';
import {
  EndpointHealth,
  StatePlane,
  type GpuStateDeltaSchema,
  type GpuStateEvent,
  type ModelStateDeltaSchema,
} from '../../gen/infermesh/state/v1/state_pb.js';
import { createGpuStore, type GpuStore } from './gpu-store.ts';
import { statePlaneRoutes } from './state-plane-service.ts';
import { createStateStore, type StateStore } from './state-store.ts';

type ModelDelta = MessageInitShape<typeof ModelStateDeltaSchema>;
type GpuDelta = MessageInitShape<typeof GpuStateDeltaSchema>;

async function serve(t: { after(fn: () => Promise<void>): void }, store: StateStore, gpus: GpuStore) {
  const api = await createApiServer({
    host: '127.0.0.1',
    port: 0,
    routes: statePlaneRoutes({ store, gpus, nodeId: 'gpu-1', clock: () => 7000 }),
  });
  t.after(() => api.close());
  return { url: api.url, client: createClient(StatePlane, createGrpcTransport({ baseUrl: api.url })) };
}

/** An async iterable the test writes to, so deltas and acks interleave like a real reporter's. */
function channel<T>() {
  const items: T[] = [];
  let wake: (() => void) | undefined;
  let closed = false;
  return {
    push(item: T) {
      items.push(item);
      wake?.();
    },
    close() {
      closed = true;
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (items.length > 0) yield items.shift()!;
        else if (closed) return;
        else await new Promise<void>((r) => (wake = r));
      }
    },
  };
}

const gpu = (extra: Partial<GpuState> = {}): GpuState => ({
  uuid: 'GPU-0',
  index: 0,
  name: 'NVIDIA H100',
  node: 'gpu-1',
  healthy: true,
  updatedAt: 1000,
  source: 'nvml',
  ...extra,
});

test('ReportModelState creates, merges and removes records, one ack per delta, in order', async (t) => {
  const store = createStateStore();
  const { client } = await serve(t, store, createGpuStore());
  const deltas = channel<ModelDelta>();
  const acks = client.reportModelState(deltas)[Symbol.asyncIterator]();
  const send = async (d: ModelDelta) => {
    deltas.push(d);
    const next = await acks.next();
    assert.ok(!next.done);
    return next.value;
  };

  const created = await send({
    labels: { model: 'llama', runtime: 'tgi', node: 'ext-1' },
    endpointId: 'ext-1/tgi-0',
    endpointUrl: 'http://127.0.0.1:9000',
    loaded: true,
    queueDepth: 4,
  });
  assert.deepEqual([created.success, created.message, created.endpointId], [true, 'created', 'ext-1/tgi-0']);
  assert.deepEqual(store.get('ext-1/tgi-0', 'llama'), {
    endpointId: 'ext-1/tgi-0',
    endpointUrl: 'http://127.0.0.1:9000',
    node: 'ext-1',
    model: 'llama',
    runtime: 'tgi',
    health: 'healthy',
    loaded: true,
    warming: false,
    queueDepth: 4,
    updatedAt: 7000,
  });

  // By labels alone (one record matches); the original's field names map onto the domain's.
  const merged = await send({
    labels: { model: 'llama' },
    serviceRate: 2.5,
    p95LatencyMs: 800,
    batchFullness: 0.3,
    health: EndpointHealth.STALE,
    timestamp: timestampFromMs(9000),
  });
  assert.equal(merged.message, 'updated');
  const rec = store.get('ext-1/tgi-0', 'llama')!;
  assert.deepEqual(
    [rec.queueDepth, rec.requestRate, rec.e2eP95Ms, rec.batchFullness, rec.health, rec.updatedAt],
    [4, 2.5, 800, 0.3, 'stale', 9000],
  );

  const removed = await send({ labels: { model: 'llama' }, endpointId: 'ext-1/tgi-0', remove: true });
  assert.equal(removed.message, 'removed');
  assert.equal(store.list().length, 0);
  deltas.close();
  assert.equal((await acks.next()).done, true);
});

test('invalid model deltas get failed acks with a code and the stream goes on', async (t) => {
  const store = createStateStore();
  const { client } = await serve(t, store, createGpuStore());
  const base = { labels: { model: 'm', runtime: 'vllm', node: 'n' }, endpointUrl: 'http://127.0.0.1:1' };
  const deltas: ModelDelta[] = [
    { queueDepth: 1 }, // no model
    { labels: { model: 'm' }, queueDepth: 1 }, // unknown record, no identity to create it
    { ...base, endpointId: 'n/a', labels: { ...base.labels, runtime: 'nope' } },
    { ...base, endpointId: 'n/a', kvCacheUsage: 1.5 },
    { ...base, endpointId: 'n/a', serviceRate: Number.NaN },
    { ...base, endpointId: 'n/a', endpointUrl: 'ftp://x' },
    { ...base, endpointId: 'n/a' }, // valid: created
    { ...base, endpointId: 'n/b' }, // valid: created
    { labels: { model: 'm' }, loaded: true }, // ambiguous: two records match
    { labels: { model: 'm', runtime: 'sglang' }, endpointId: 'n/a' }, // identity cannot change
    { labels: { model: 'm' }, endpointId: 'n/zzz', remove: true },
  ];
  const acks = [];
  for await (const ack of client.reportModelState(
    (async function* () {
      yield* deltas;
    })(),
  ))
    acks.push(ack);
  assert.deepEqual(
    acks.map((a) => (a.success ? 'ok' : a.errorCode)),
    [
      'invalid_request',
      'not_found',
      'invalid_request',
      'invalid_request',
      'invalid_request',
      'invalid_request',
      'ok',
      'ok',
      'invalid_request',
      'invalid_request',
      'not_found',
    ],
  );
  assert.match(acks[1]!.message, /needs endpoint_id, endpoint_url, labels\.runtime, labels\.node/);
  assert.match(acks[3]!.message, /kv_cache_usage must be within 0\.\.1/);
  assert.match(acks[8]!.message, /match 2 records \(n\/a, n\/b\); set endpoint_id/);
  assert.equal(store.list().length, 2);
});

test('ReportGpuState creates and merges GPUs; ListGpuStates / GetGpuState / WatchGpuStates serve them', async (t) => {
  const gpus = createGpuStore();
  gpus.upsert(gpu({ uuid: 'GPU-1', index: 1, node: 'gpu-2', throttleReasons: ['hw_slowdown'] }));
  const { client, url } = await serve(t, createStateStore(), gpus);

  const abort = new AbortController();
  t.after(() => abort.abort());
  const gpuEvents = client.watchGpuStates({ healthyOnly: true }, { signal: abort.signal });
  const watch = gpuEvents[Symbol.asyncIterator]();
  const describe = (e: GpuStateEvent) =>
    e.event.case === 'snapshotDone'
      ? `done:${e.event.value.count}`
      : `${e.event.case}:${e.event.value?.gpuUuid}`;
  assert.equal(describe((await watch.next()).value as GpuStateEvent), 'done:0');

  const deltas: GpuDelta[] = [
    {
      gpuUuid: 'GPU-0',
      node: 'gpu-1',
      source: 'dcgm',
      smUtilization: 0.5,
      vramUsedGb: 10,
      vramTotalGb: 80,
      throttled: false,
    },
    { gpuUuid: 'GPU-0', node: 'gpu-1', temperatureC: 70, eccVolatileCorrected: 3, migProfile: '1g.10gb' },
    { gpuUuid: 'GPU-9', node: 'gpu-1', smUtilization: 0.1 }, // unknown, no source
    { gpuUuid: 'GPU-0', node: 'gpu-1', smUtilization: 73 }, // a percentage, not a fraction
    { gpuUuid: 'GPU-0', node: 'gpu-1', source: 'amd' },
    { node: 'gpu-1' },
  ];
  const acks = [];
  for await (const ack of client.reportGpuState(
    (async function* () {
      yield* deltas;
    })(),
  ))
    acks.push(ack);
  assert.deepEqual(
    acks.map((a) => (a.success ? a.message : a.errorCode)),
    ['created', 'updated', 'not_found', 'invalid_request', 'invalid_request', 'invalid_request'],
  );
  assert.deepEqual(gpus.get('gpu-1', 'GPU-0'), {
    uuid: 'GPU-0',
    index: 0,
    name: '',
    node: 'gpu-1',
    healthy: true,
    updatedAt: 7000,
    source: 'dcgm',
    smUtilization: 0.5,
    memoryUsedBytes: 10e9,
    memoryTotalBytes: 80e9,
    throttleReasons: [],
    temperatureC: 70,
    eccVolatileCorrected: 3,
    migProfile: '1g.10gb',
  });
  assert.equal(describe((await watch.next()).value as GpuStateEvent), 'upsert:GPU-0');

  const all = await client.listGpuStates({});
  assert.deepEqual(
    all.states.map((s) => s.gpuUuid),
    ['GPU-0', 'GPU-1'],
  );
  assert.deepEqual(
    (await client.listGpuStates({ healthyOnly: true })).states.map((s) => s.gpuUuid),
    ['GPU-0'],
  );
  assert.deepEqual(
    (await client.listGpuStates({ nodeFilter: 'gpu-2' })).states.map((s) => s.gpuUuid),
    ['GPU-1'],
  );
  assert.equal((await client.getGpuState({ gpuUuid: 'GPU-1' })).state?.node, 'gpu-2');
  assert.equal((await client.getGpuState({ gpuUuid: 'GPU-1', node: 'gpu-1' })).found, false);
  await assert.rejects(client.getGpuState({}), (e: ConnectError) => e.code === Code.InvalidArgument);

  // Unary RPCs over Connect JSON, as curl calls them.
  const post = async (method: string, body: unknown) => {
    const res = await fetch(`${url}/infermesh.state.v1.StatePlane/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const got = await post('GetGpuState', { gpuUuid: 'GPU-0', node: 'gpu-1' });
  assert.equal(got.status, 200);
  assert.deepEqual(got.json, {
    found: true,
    state: {
      gpuUuid: 'GPU-0',
      node: 'gpu-1',
      migProfile: '1g.10gb',
      smUtilization: 0.5,
      vramUsedGb: 10,
      vramTotalGb: 80,
      temperatureC: 70,
      throttled: false,
      lastUpdated: '1970-01-01T00:00:07Z',
      memoryUsedBytes: 10e9,
      memoryTotalBytes: 80e9,
      eccVolatileCorrected: 3,
      healthy: true,
      source: 'dcgm',
    },
  });
  const listed = await post('ListGpuStates', { healthyOnly: true });
  assert.equal((listed.json.states as unknown[]).length, 1);
  const bad = await post('GetGpuState', {});
  assert.deepEqual([bad.status, bad.json.code], [400, 'invalid_argument']);

  // A GPU that stops being healthy leaves a healthy_only watch as a remove.
  gpus.upsert({ ...gpus.get('gpu-1', 'GPU-0')!, healthy: false, quarantineReason: 'xid 79' });
  // The create and the merge may arrive as one upsert or two (coalesced); then the remove.
  let last = '';
  for (let i = 0; i < 3 && last !== 'remove:GPU-0'; i++)
    last = describe((await watch.next()).value as GpuStateEvent);
  assert.equal(last, 'remove:GPU-0');
});
