import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectError } from '@connectrpc/connect';
import { Code, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { createApiServer } from '../agent/api-server.ts';
import type { ModelState, NodeInfo } from '../core/types.ts';
import { ControlPlane, ModelStatus, NodeRole, NodeStatus } from '../gen/infermesh/control/v1/control_pb.js';
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
const source: ControlPlaneSource = { nodes: () => nodes, modelStates: () => states };

async function serve(t: { after(fn: () => Promise<void>): void }) {
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

test('ListModels aggregates model states; the rest is UNIMPLEMENTED with a reason', async (t) => {
  const client = await serve(t);
  const { models } = await client.listModels({});
  assert.deepEqual(
    models.map((m) => [m.name, m.status, m.nodes]),
    [['llama', ModelStatus.LOADED, ['gpu-1']]],
  );
  assert.equal((await client.listModels({ statusFilter: ModelStatus.LOADING })).models.length, 0);
  const unimplemented = (rpc: string) => (e: ConnectError) =>
    e.code === Code.Unimplemented && e.rawMessage === `${rpc} lands with the control-plane issue`;
  await assert.rejects(client.drainNode({ nodeId: 'gpu-1' }), unimplemented('DrainNode'));
  await assert.rejects(client.pinModel({ model: 'llama' }), unimplemented('PinModel'));
  await assert.rejects(client.setPolicy({}), unimplemented('SetPolicy'));
  await assert.rejects(client.listPolicies({}), unimplemented('ListPolicies'));
  await assert.rejects(async () => {
    for await (const _ of client.subscribeEvents({}));
  }, unimplemented('SubscribeEvents'));
});
