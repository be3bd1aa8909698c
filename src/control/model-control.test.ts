// LoadModel / UnloadModel through real API servers: served on the target node by a fake endpoint
// control, forwarded from another node over Connect, and every error with its stable code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { createApiServer, type ApiServer } from '../agent/api-server.ts';
import { MESH_ERROR_CODE_HEADER, MeshError } from '../core/errors.ts';
import type { NodeInfo } from '../core/types.ts';
import { ControlPlane } from '../gen/infermesh/control/v1/control_pb.js';
import { controlPlaneRoutes } from './control-plane-service.ts';
import type { EndpointControl, ModelController } from './model-control.ts';
import { memoryControlRecords } from './testing/memory-records.ts';

const node = (id: string, apiUrl: string): NodeInfo => ({
  id,
  roles: ['gpu'],
  zone: '',
  labels: {},
  status: 'healthy',
  lastSeen: 0,
  version: '',
  apiUrl,
});

/** Two endpoints that can load (vLLM with LoRA updating), one that cannot (TGI). */
function fakeController(calls: string[]): ModelController {
  const control = (name: string): EndpointControl => ({
    async loadModel(model, options) {
      if (model === 'broken') throw new MeshError('upstream_error', 'runtime said 500');
      calls.push(`load ${name} ${model} ${JSON.stringify(options ?? {})}`);
    },
    async unloadModel(model) {
      if (model === 'ghost') throw new MeshError('not_found', `The lora adapter '${model}' cannot be found.`);
      calls.push(`unload ${name} ${model}`);
    },
  });
  return {
    endpoints: () => [
      { name: 'vllm-a', runtime: 'vllm', models: ['llama', 'sql-lora'] },
      { name: 'vllm-b', runtime: 'vllm', models: ['qwen'] },
      { name: 'tgi', runtime: 'tgi', models: ['mistral'] },
    ],
    control: (name) => (name === 'tgi' ? undefined : control(name)),
  };
}

async function twoNodes(t: { after(fn: () => Promise<void>): void }) {
  const calls: string[] = [];
  // The directory is read per call, after both servers listen.
  const urls = { router: '', gpu: '' };
  const nodes = () => [node('router-1', urls.router), node('gpu-1', urls.gpu)];
  const gpuApi = await createApiServer({
    host: '127.0.0.1',
    port: 0,
    routes: controlPlaneRoutes({
      nodes,
      modelStates: () => [],
      records: await memoryControlRecords(),
      nodeId: 'gpu-1',
      controller: fakeController(calls),
    }),
  });
  const routerApi = await createApiServer({
    host: '127.0.0.1',
    port: 0,
    routes: controlPlaneRoutes({
      nodes,
      modelStates: () => [],
      nodeId: 'router-1',
      records: await memoryControlRecords(),
    }),
  });
  Object.assign(urls, { router: routerApi.url, gpu: gpuApi.url });
  t.after(() => Promise.all([gpuApi.close(), routerApi.close()]).then(() => undefined));
  const client = (api: ApiServer) => createClient(ControlPlane, createGrpcTransport({ baseUrl: api.url }));
  return { calls, gpu: client(gpuApi), router: client(routerApi), gpuApi };
}

const meshCode = (code: string, message?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ConnectError, String(e));
  assert.equal(e.metadata.get(MESH_ERROR_CODE_HEADER), code, e.rawMessage);
  if (message) assert.match(e.rawMessage, message);
  return true;
};

test('the target node loads and unloads through the endpoint it names or the only one that fits', async (t) => {
  const { calls, gpu } = await twoNodes(t);
  const res = await gpu.loadModel({
    model: 'sql-lora-2',
    nodeId: 'gpu-1',
    baseModel: 'llama',
    source: '/adapters/sql-2',
    config: { rank: '8' },
  });
  assert.deepEqual([res.success, res.nodeId, res.endpointId], [true, 'gpu-1', 'gpu-1/vllm-a']);
  assert.equal(res.message, 'loaded "sql-lora-2" on gpu-1/vllm-a');
  await gpu.loadModel({ model: 'x', nodeId: 'gpu-1', endpoint: 'vllm-b' });
  const un = await gpu.unloadModel({ model: 'sql-lora', nodeId: 'gpu-1' });
  assert.equal(un.endpointId, 'gpu-1/vllm-a');
  assert.deepEqual(calls, [
    'load vllm-a sql-lora-2 {"source":"/adapters/sql-2","baseModel":"llama","config":{"rank":"8"}}',
    'load vllm-b x {}',
    'unload vllm-a sql-lora',
  ]);
});

test('errors: unknown endpoint or node, a runtime that cannot load, ambiguity, runtime failures', async (t) => {
  const { gpu } = await twoNodes(t);
  await assert.rejects(
    gpu.loadModel({ model: 'x', nodeId: 'gpu-1', endpoint: 'nope' }),
    meshCode('not_found', /no endpoint "nope"/),
  );
  await assert.rejects(
    gpu.loadModel({ model: 'x', nodeId: 'gpu-1', endpoint: 'tgi' }),
    meshCode('invalid_request', /"tgi" \(tgi\) of node gpu-1 cannot load models at run time/),
  );
  await assert.rejects(
    gpu.unloadModel({ model: 'mistral', nodeId: 'gpu-1' }),
    meshCode('invalid_request', /cannot unload/),
  );
  await assert.rejects(
    gpu.loadModel({ model: 'x', nodeId: 'gpu-1' }),
    meshCode('invalid_request', /several endpoints .*\(vllm-a, vllm-b\)/),
  );
  await assert.rejects(
    gpu.loadModel({ model: 'x', nodeId: 'gpu-1', baseModel: 'phi' }),
    meshCode('not_found', /adapters of "phi"/),
  );
  await assert.rejects(
    gpu.unloadModel({ model: 'nothing', nodeId: 'gpu-1' }),
    meshCode('not_found', /serves "nothing"/),
  );
  await assert.rejects(
    gpu.loadModel({ model: 'broken', nodeId: 'gpu-1', endpoint: 'vllm-a' }),
    meshCode('upstream_error'),
  );
  await assert.rejects(gpu.loadModel({ model: 'x' }), meshCode('invalid_request', /node_id is required/));
  await assert.rejects(
    gpu.loadModel({ nodeId: 'gpu-1' }),
    (e: ConnectError) => e.code === Code.InvalidArgument,
  );
  await assert.rejects(
    gpu.loadModel({ model: 'x', nodeId: 'gpu-9' }),
    meshCode('not_found', /no node "gpu-9"/),
  );
});

test('another node forwards once to the target and passes its answers and error codes back', async (t) => {
  const { calls, router, gpuApi } = await twoNodes(t);
  const res = await router.loadModel({ model: 'a1', nodeId: 'gpu-1', endpoint: 'vllm-b' });
  assert.deepEqual([res.nodeId, res.endpointId], ['gpu-1', 'gpu-1/vllm-b']);
  assert.equal((await router.unloadModel({ model: 'qwen', nodeId: 'gpu-1' })).endpointId, 'gpu-1/vllm-b');
  assert.deepEqual(calls, ['load vllm-b a1 {}', 'unload vllm-b qwen']);
  await assert.rejects(
    router.unloadModel({ model: 'ghost', nodeId: 'gpu-1', endpoint: 'vllm-a' }),
    meshCode('not_found', /cannot be found/),
  );
  await assert.rejects(
    router.loadModel({ model: 'x', nodeId: 'gpu-1', endpoint: 'tgi' }),
    meshCode('invalid_request'),
  );
  // A forwarded call for a node that is not the receiver is not forwarded again.
  const direct = createClient(ControlPlane, createGrpcTransport({ baseUrl: gpuApi.url }));
  await assert.rejects(
    direct.loadModel({ model: 'x', nodeId: 'router-1' }, { headers: { 'mesh-forwarded-by': 'edge-1' } }),
    meshCode('not_found', /already forwarded by edge-1/),
  );
  await gpuApi.close();
  await assert.rejects(
    router.loadModel({ model: 'x', nodeId: 'gpu-1' }),
    meshCode('unavailable', /cannot reach node "gpu-1"/),
  );
});
