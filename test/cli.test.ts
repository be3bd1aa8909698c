// The `mesh` CLI as a real process (bin/mesh.js) against a real API server started here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { createApiServer, type ApiServer } from '../src/agent/api-server.ts';
import { controlPlaneRoutes } from '../src/control/control-plane-service.ts';
import type { NodeInfo } from '../src/core/types.ts';
import { statePlaneRoutes } from '../src/signal/state/state-plane-service.ts';
import { createStateStore } from '../src/signal/state/state-store.ts';
import { memoryControlRecords } from '../src/control/testing/memory-records.ts';
import { runMesh } from './helpers/mesh-cli.ts';

const mesh = (args: string[], env: NodeJS.ProcessEnv = {}) => runMesh(args, env);

const nodes: NodeInfo[] = [
  {
    id: 'router-1',
    roles: ['router', 'gpu'],
    zone: 'eu-west',
    labels: { rack: 'r7' },
    status: 'healthy',
    lastSeen: Date.UTC(2026, 10, 1, 12),
    version: '0.1.0',
    apiUrl: 'http://127.0.0.1:50051',
  },
  {
    id: 'gpu-2',
    roles: ['gpu'],
    zone: 'eu-west',
    labels: {},
    status: 'unhealthy',
    lastSeen: 0,
    version: '',
    apiUrl: 'http://127.0.0.1:50061',
  },
];

async function startApi(): Promise<ApiServer> {
  const store = createStateStore();
  store.upsert({
    endpointId: 'router-1/sim-0',
    endpointUrl: 'http://127.0.0.1:8001',
    node: 'router-1',
    model: 'sim-llama-3-8b',
    runtime: 'vllm',
    health: 'healthy',
    loaded: true,
    warming: false,
    queueDepth: 5,
    running: 12,
    kvCacheUsage: 0.6,
    updatedAt: Date.UTC(2026, 10, 1, 12),
  });
  const records = await memoryControlRecords();
  return createApiServer({
    host: '127.0.0.1',
    port: 0,
    routes: (r) => {
      statePlaneRoutes({ store, nodeId: 'router-1' })(r);
      controlPlaneRoutes({ nodes: () => nodes, modelStates: () => store.list(), records })(r);
    },
  });
}

test('mesh prints real data from a running API server in json, yaml and table', async (t) => {
  const api = await startApi();
  t.after(() => api.close());
  // Processes start in parallel: each pays Node's start-up once.
  const [json, yaml, table, models, stats, viaEnv] = await Promise.all([
    mesh(['--endpoint', api.url, 'list-nodes', '-o', 'json']),
    mesh(['--endpoint', api.url, '-o', 'yaml', 'list-nodes']),
    mesh(['--endpoint', api.url, 'list-nodes']),
    mesh(['-e', api.url, 'list-models', '-o', 'json']),
    mesh(['stats', '-o', 'json'], { MESH_ENDPOINT: api.url }),
    mesh(['list-nodes', '--role', 'router', '-o', 'json'], { MESH_ENDPOINT: api.url }),
  ]);
  for (const run of [json, yaml, table, models, stats, viaEnv]) assert.equal(run.code, 0, run.stderr);

  const parsed = JSON.parse(json.stdout) as { nodes: Array<Record<string, unknown>> };
  assert.deepEqual(parsed.nodes[1], {
    id: 'router-1',
    roles: ['router', 'gpu'],
    status: 'healthy',
    zone: 'eu-west',
    apiUrl: 'http://127.0.0.1:50051',
    version: '0.1.0',
    lastSeen: '2026-11-01T12:00:00.000Z',
    labels: { rack: 'r7' },
  });
  assert.deepEqual(
    parsed.nodes.map((n) => [n.id, n.status, n.lastSeen]),
    [
      ['gpu-2', 'unhealthy', null],
      ['router-1', 'healthy', '2026-11-01T12:00:00.000Z'],
    ],
  );
  assert.deepEqual(parseYaml(yaml.stdout), parsed);

  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^ID\s+ROLES\s+STATUS\s+ZONE\s+API\s+VERSION\s+LAST SEEN$/);
  assert.match(lines[1]!, /^gpu-2\s+gpu\s+unhealthy\s+eu-west\s+http:\/\/127\.0\.0\.1:50061\s+-\s+-$/);
  assert.match(lines[2]!, /^router-1\s+router,gpu\s+healthy\s+/);
  assert.ok(!table.stdout.includes('\u001b['), 'NO_COLOR: no escape codes');

  const { models: m } = JSON.parse(models.stdout) as { models: Array<Record<string, unknown>> };
  assert.deepEqual([m[0]?.name, m[0]?.status, m[0]?.nodes], ['sim-llama-3-8b', 'loaded', ['router-1']]);
  assert.deepEqual(JSON.parse(stats.stdout), {
    nodes: { total: 2, healthy: 1 },
    models: [
      {
        model: 'sim-llama-3-8b',
        endpoints: 1,
        healthy: 1,
        queueDepth: 5,
        running: 12,
        meanKvCacheUsage: 0.6,
      },
    ],
  });
  assert.deepEqual(
    (JSON.parse(viaEnv.stdout) as { nodes: Array<{ id: string }> }).nodes.map((n) => n.id),
    ['router-1'],
  );
});

test('an unreachable endpoint and an unknown command fail with one clear line', async () => {
  const [down, unknown] = await Promise.all([
    mesh(['--endpoint', 'http://127.0.0.1:1', 'list-nodes', '-o', 'json']),
    mesh(['list-everything']),
  ]);
  assert.equal(down.code, 1);
  assert.equal(down.stdout, '');
  assert.match(
    down.stderr,
    /^mesh: error: unavailable: cannot reach http:\/\/127\.0\.0\.1:1: [^\n]*ECONNREFUSED[^\n]*\n$/,
  );
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^mesh: error: usage: unknown command 'list-everything'[^\n]*\n$/);
});
