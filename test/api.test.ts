// The API port as meshd wires it: StatePlane and ControlPlane on one server, checked through real
// clients of each protocol and through the examples docs/API.md shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { toJson } from '@bufbuild/protobuf';
import type { ConnectError } from '@connectrpc/connect';
import { Code, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import { createApiServer } from '../src/agent/api-server.ts';
import { controlPlaneRoutes } from '../src/control/control-plane-service.ts';
import type { ModelState, NodeInfo } from '../src/core/types.ts';
import { ControlPlane } from '../src/gen/infermesh/control/v1/control_pb.js';
import { Scoring } from '../src/gen/infermesh/scoring/v1/scoring_pb.js';
import { ListModelStatesResponseSchema, StatePlane } from '../src/gen/infermesh/state/v1/state_pb.js';
import { statePlaneRoutes } from '../src/signal/state/state-plane-service.ts';
import { createStateStore } from '../src/signal/state/state-store.ts';
import { memoryControlRecords } from '../src/control/testing/memory-records.ts';

const apiDoc = readFileSync(new URL('../docs/API.md', import.meta.url), 'utf8');

const sim = (i: number, extra: Partial<ModelState> = {}): ModelState => ({
  endpointId: `gpu-a/sim-${i}`,
  endpointUrl: `http://127.0.0.1:4120${i}`,
  node: 'gpu-a',
  model: 'sim-llama-3-8b',
  runtime: 'vllm',
  health: 'healthy',
  loaded: true,
  warming: false,
  queueDepth: i,
  running: 3,
  kvCacheUsage: 0.12,
  updatedAt: Date.UTC(2026, 10, 26, 12),
  ...extra,
});
const self: NodeInfo = {
  id: 'gpu-a',
  roles: ['router', 'gpu'],
  zone: 'default',
  labels: {},
  status: 'healthy',
  lastSeen: Date.UTC(2026, 10, 26, 12),
  version: '0.1.0',
  apiUrl: '',
};

async function startApi(t: { after(fn: () => Promise<void>): void }) {
  const store = createStateStore();
  store.upsert(sim(0));
  store.upsert(sim(1, { health: 'stale' }));
  const records = await memoryControlRecords();
  const api = await createApiServer({
    host: '127.0.0.1',
    port: 0,
    routes: (router) => {
      statePlaneRoutes({ store, nodeId: self.id })(router);
      controlPlaneRoutes({
        nodes: () => [{ ...self, apiUrl: api.url }],
        modelStates: () => store.list(),
        records,
      })(router);
    },
  });
  t.after(() => api.close());
  return { api, store };
}

test('every curl example in docs/API.md works against a real server', async (t) => {
  const { api } = await startApi(t);
  const examples = [
    ...apiDoc.matchAll(/^curl [^\n]*-d '([^']*)' (http:\/\/127\.0\.0\.1:50051\/\S+)(?:\s+# (\d{3}))?$/gm),
  ];
  assert.ok(examples.length >= 6, `found ${examples.length} curl examples`);
  for (const [line, body, url, status] of examples) {
    const res = await fetch(url!.replace('http://127.0.0.1:50051', api.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(res.status, Number(status ?? 200), line);
    const json = (await res.json()) as Record<string, unknown>;
    if (!status) assert.ok(Object.keys(json).length > 0, `empty answer for: ${line}`);
  }
});

test('docs/API.md names every RPC of the three services', () => {
  for (const service of [StatePlane, ControlPlane, Scoring]) {
    assert.match(apiDoc, new RegExp('`' + service.typeName.replace(/\./g, '\\.') + '`'));
    for (const method of service.methods)
      assert.match(apiDoc, new RegExp('`' + method.name + '`'), method.name);
  }
});

test('gRPC and Connect JSON clients on the same port see the same data', async (t) => {
  const { api } = await startApi(t);
  const grpc = createClient(StatePlane, createGrpcTransport({ baseUrl: api.url }));
  const viaGrpc = toJson(ListModelStatesResponseSchema, await grpc.listModelStates({}));
  const res = await fetch(`${api.url}/infermesh.state.v1.StatePlane/ListModelStates`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.deepEqual(await res.json(), viaGrpc);
  const node = await createClient(ControlPlane, createGrpcTransport({ baseUrl: api.url })).getNode({
    nodeId: 'gpu-a',
  });
  assert.equal(node.node?.apiUrl, api.url);
});

test('WatchModelStates works over Connect on HTTP/1.1 as well as over gRPC', async (t) => {
  const { api, store } = await startApi(t);
  const abort = new AbortController();
  t.after(() => abort.abort());
  const client = createClient(StatePlane, createConnectTransport({ baseUrl: api.url, httpVersion: '1.1' }));
  const stream = client.watchModelStates({ modelFilter: 'sim-llama-3-8b' }, { signal: abort.signal });
  const it = stream[Symbol.asyncIterator]();
  const cases: string[] = [];
  for (let i = 0; i < 3; i++) {
    const next = await it.next();
    cases.push(next.done ? 'end' : (next.value.event.case ?? 'none'));
  }
  assert.deepEqual(cases, ['upsert', 'upsert', 'snapshotDone']);
  store.remove('gpu-a/sim-0', 'sim-llama-3-8b');
  const next = await it.next();
  assert.ok(!next.done && next.value.event.case === 'remove');
  assert.equal(next.value.event.value.endpointId, 'gpu-a/sim-0');
});

test('the Scoring service is defined but not served yet', async (t) => {
  const { api } = await startApi(t);
  const scoring = createClient(Scoring, createGrpcTransport({ baseUrl: api.url }));
  await assert.rejects(
    scoring.scoreTargets({ model: 'x' }),
    (e: ConnectError) => e.code === Code.Unimplemented,
  );
});
