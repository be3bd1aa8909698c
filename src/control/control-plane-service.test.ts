import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectError } from '@connectrpc/connect';
import { Code, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { memoryControlRecords } from './testing/memory-records.ts';
import { createApiServer } from '../agent/api-server.ts';
import type { ModelState, NodeInfo } from '../core/types.ts';
import {
  ControlPlane,
  EventType,
  ModelStatus,
  NodeRole,
  NodeStatus,
  PinMode,
  PolicyType,
} from '../gen/infermesh/control/v1/control_pb.js';
import { controlPlaneRoutes, type ControlPlaneSource } from './control-plane-service.ts';
import { nodeFromProto } from './control-proto.ts';

const nodes: NodeInfo[] = [
  {
    id: 'router-1',
    roles: ['router', 'edge'],
    zone: 'eu-1',
    labels: { tier: 'front' },
    status: 'healthy',
    lastSeen: 5000,
    version: '0.1.0',
    apiUrl: 'http://127.0.0.1:50051',
  },
  {
    id: 'gpu-1',
    roles: ['gpu'],
    zone: 'eu-1',
    labels: {},
    status: 'unhealthy',
    lastSeen: 4000,
    version: '0.1.0',
    apiUrl: 'http://127.0.0.1:50061',
  },
];
const states: ModelState[] = [
  {
    endpointId: 'gpu-1/a',
    endpointUrl: 'http://x',
    node: 'gpu-1',
    model: 'llama',
    runtime: 'vllm',
    health: 'healthy',
    loaded: true,
    warming: false,
    updatedAt: 1,
  },
];
async function serve(t: { after(fn: () => Promise<void>): void }) {
  const source: ControlPlaneSource = {
    nodes: () => nodes,
    modelStates: () => states,
    records: await memoryControlRecords(),
  };
  const api = await createApiServer({ host: '127.0.0.1', port: 0, routes: controlPlaneRoutes(source) });
  t.after(() => api.close());
  return createClient(ControlPlane, createGrpcTransport({ baseUrl: api.url }));
}

test('ListNodes returns every node (sorted) and honours role and status filters', async (t) => {
  const client = await serve(t);
  const all = await client.listNodes({});
  assert.deepEqual(all.nodes.map(nodeFromProto), [nodes[1], nodes[0]]);
  assert.equal(all.nodes[1]!.roles[1], NodeRole.EDGE);
  assert.equal(timestampMs(all.nodes[1]!.lastSeen!), 5000);
  const gpus = await client.listNodes({ roleFilter: NodeRole.GPU });
  assert.deepEqual(
    gpus.nodes.map((n) => n.id),
    ['gpu-1'],
  );
  const healthy = await client.listNodes({ statusFilter: NodeStatus.HEALTHY });
  assert.deepEqual(
    healthy.nodes.map((n) => n.id),
    ['router-1'],
  );
});

test('GetNode finds a node or answers NOT_FOUND', async (t) => {
  const client = await serve(t);
  assert.equal((await client.getNode({ nodeId: 'gpu-1' })).node?.apiUrl, 'http://127.0.0.1:50061');
  await assert.rejects(client.getNode({ nodeId: 'nope' }), (e: ConnectError) => e.code === Code.NotFound);
  await assert.rejects(client.getNode({}), (e: ConnectError) => e.code === Code.InvalidArgument);
});

test('ListModels aggregates model states', async (t) => {
  const client = await serve(t);
  const { models } = await client.listModels({});
  assert.deepEqual(
    models.map((m) => [m.name, m.status, m.nodes]),
    [['llama', ModelStatus.LOADED, ['gpu-1']]],
  );
  assert.equal((await client.listModels({ statusFilter: ModelStatus.LOADING })).models.length, 0);
});

test('DrainNode marks the node draining in ListNodes until UndrainNode; unknown nodes are NOT_FOUND', async (t) => {
  const client = await serve(t);
  await client.drainNode({ nodeId: 'gpu-1' });
  const drained = await client.listNodes({ statusFilter: NodeStatus.DRAINING });
  assert.deepEqual(
    drained.nodes.map((n) => n.id),
    ['gpu-1'],
  );
  await assert.rejects(client.drainNode({ nodeId: 'nope' }), (e: ConnectError) => e.code === Code.NotFound);
  await client.undrainNode({ nodeId: 'gpu-1' });
  assert.equal((await client.listNodes({ statusFilter: NodeStatus.DRAINING })).nodes.length, 0);
  await assert.rejects(
    client.undrainNode({ nodeId: 'gpu-1' }),
    (e: ConnectError) => e.code === Code.NotFound,
  );
});

test('policies: a bad one lists every problem; set, get, list by type, delete; reads carry the revision', async (t) => {
  const client = await serve(t);
  const bad = await client
    .setPolicy({
      policy: { name: 'q', type: PolicyType.QUOTA, spec: { tenant: 'Nope!', burstRequests: -1 } },
    })
    .then(
      () => undefined,
      (e: unknown) => e as ConnectError,
    );
  assert.equal(bad?.code, Code.InvalidArgument);
  for (const path of ['spec.tenant', 'spec.burstRequests', 'spec'])
    assert.match(bad.rawMessage, new RegExp(`  ${path}: `));
  const set = await client.setPolicy({
    policy: {
      name: 'slo.fast',
      type: PolicyType.SLO,
      targetModels: ['llama'],
      spec: { class: 'latency', ttftMs: 800 },
    },
  });
  assert.ok(set.policy!.revision > 0n);
  const headers: Headers[] = [];
  const got = await client.getPolicy({ name: 'slo.fast' }, { onHeader: (h) => headers.push(h) });
  assert.deepEqual(got.policy?.spec, { class: 'latency', ttftMs: 800 });
  assert.equal(headers[0]?.get('mesh-revision'), String(set.policy!.revision));
  assert.equal(headers[0]?.get('mesh-stale'), null);
  assert.equal((await client.listPolicies({ typeFilter: PolicyType.QUOTA })).policies.length, 0);
  assert.deepEqual(
    (await client.listPolicies({})).policies.map((p) => p.name),
    ['slo.fast'],
  );
  await assert.rejects(
    client.setPolicy({ policy: { ...got.policy }, expectedRevision: set.policy!.revision + 7n }),
    (e: ConnectError) => e.code === Code.Aborted,
  );
  await client.deletePolicy({ name: 'slo.fast' });
  await assert.rejects(client.getPolicy({ name: 'slo.fast' }), (e: ConnectError) => e.code === Code.NotFound);
});

test('tenants, pins and placements, and the events they left', async (t) => {
  const client = await serve(t);
  await client.createTenant({ tenant: { id: 'acme', defaultSloClass: 'throughput' } });
  await assert.rejects(
    client.createTenant({ tenant: { id: 'acme' } }),
    (e: ConnectError) => e.code === Code.Aborted,
  );
  assert.deepEqual(
    (await client.listTenants({})).tenants.map((x) => [x.id, x.defaultSloClass]),
    [['acme', 'throughput']],
  );
  await client.pinModel({
    model: 'llama',
    nodeIds: ['gpu-1', 'gpu-2'],
    minReplicas: 2,
    mode: PinMode.REQUIRE,
  });
  const [placement] = (await client.listPlacements({})).placements;
  assert.deepEqual(
    [placement?.model, placement?.pinnedNodes, placement?.loadedNodes, placement?.state, placement?.mode],
    ['llama', ['gpu-1', 'gpu-2'], ['gpu-1'], 'degraded', PinMode.REQUIRE],
  );
  await client.unpinModel({ model: 'llama', nodeIds: ['gpu-2'] });
  assert.equal((await client.listPlacements({})).placements[0]?.state, 'ok');
  const events = [];
  for await (const e of client.subscribeEvents({})) events.push(e);
  assert.deepEqual(
    events.map((e) => e.type),
    [EventType.TENANT_CREATED, EventType.POLICY_CREATED, EventType.POLICY_UPDATED],
  );
  const since = events[0]!.revision;
  const filtered = [];
  for await (const e of client.subscribeEvents({ sinceRevision: since, types: [EventType.POLICY_UPDATED] }))
    filtered.push(e.id);
  assert.deepEqual(filtered, [String(events[2]!.revision)]);
});
