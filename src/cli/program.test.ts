import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { createApiServer } from '../agent/api-server.ts';
import { controlPlaneRoutes } from '../control/control-plane-service.ts';
import type { ModelState, NodeInfo } from '../core/types.ts';
import { statePlaneRoutes } from '../signal/state/state-plane-service.ts';
import { createStateStore } from '../signal/state/state-store.ts';
import { useColor } from './output.ts';
import { runCli } from './program.ts';
import { summarise } from './commands/stats.ts';
import { memoryControlRecords } from '../control/testing/memory-records.ts';

const node: NodeInfo = {
  id: 'gpu-1',
  roles: ['gpu'],
  zone: 'z1',
  labels: {},
  status: 'healthy',
  lastSeen: Date.UTC(2026, 0, 2),
  version: '0.1.0',
  apiUrl: 'http://127.0.0.1:1',
};
const state = (endpointId: string, extra: Partial<ModelState> = {}): ModelState => ({
  endpointId,
  endpointUrl: 'http://x',
  node: endpointId.split('/')[0]!,
  model: 'llama',
  runtime: 'vllm',
  health: 'healthy',
  loaded: true,
  warming: false,
  updatedAt: Date.UTC(2026, 0, 1),
  ...extra,
});

async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env,
  });
  return { code, stdout, stderr };
}

async function serve(t: { after(fn: () => Promise<void>): void }) {
  const store = createStateStore();
  store.upsert(state('gpu-1/a', { queueDepth: 2, running: 4, kvCacheUsage: 0.5 }));
  store.upsert(state('gpu-1/b', { health: 'stale', queueDepth: 1, kvCacheUsage: 0.25 }));
  const records = await memoryControlRecords();
  const api = await createApiServer({
    host: '127.0.0.1',
    port: 0,
    routes: (r) => {
      statePlaneRoutes({ store })(r);
      controlPlaneRoutes({ nodes: () => [node], modelStates: () => store.list(), records })(r);
    },
  });
  t.after(() => api.close());
  return api.url;
}

test('--endpoint, MESH_ENDPOINT and the default, in that order', async (t) => {
  const url = await serve(t);
  const viaEnv = await cli(['list-nodes', '-o', 'json'], { MESH_ENDPOINT: url });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  assert.equal((JSON.parse(viaEnv.stdout) as { nodes: unknown[] }).nodes.length, 1);
  const flagWins = await cli(['--endpoint', url, 'list-nodes'], { MESH_ENDPOINT: 'http://127.0.0.1:1' });
  assert.equal(flagWins.code, 0, flagWins.stderr);
});

test('list-nodes, list-models and stats print stable JSON, equal YAML and a table', async (t) => {
  const url = await serve(t);
  const json = async (cmd: string) => {
    const out = await cli(['-e', url, cmd, '-o', 'json']);
    assert.equal(out.code, 0, out.stderr);
    const yaml = await cli(['-e', url, '-o', 'yaml', cmd]);
    assert.deepEqual(parseYaml(yaml.stdout), JSON.parse(out.stdout));
    return JSON.parse(out.stdout) as unknown;
  };
  assert.deepEqual(await json('list-nodes'), {
    nodes: [
      {
        id: 'gpu-1',
        roles: ['gpu'],
        status: 'healthy',
        zone: 'z1',
        apiUrl: 'http://127.0.0.1:1',
        version: '0.1.0',
        lastSeen: '2026-01-02T00:00:00.000Z',
        labels: {},
      },
    ],
  });
  assert.deepEqual(await json('list-models'), {
    models: [
      {
        name: 'llama',
        revision: '',
        runtime: 'vllm',
        status: 'loaded',
        endpoints: 2,
        nodes: ['gpu-1'],
        pinnedNodes: [],
        updatedAt: '2026-01-01T00:00:00.000Z',
      },
    ],
  });
  assert.deepEqual(await json('stats'), {
    nodes: { total: 1, healthy: 1 },
    models: [
      { model: 'llama', endpoints: 2, healthy: 1, queueDepth: 3, running: 4, meanKvCacheUsage: 0.375 },
    ],
  });
  const table = await cli(['-e', url, 'stats']);
  assert.equal(
    table.stdout,
    'MODEL  ENDPOINTS  HEALTHY  QUEUE  RUNNING  KV USE\nllama  2          1        3      4        37.5%\nnodes: 1 (1 healthy)\n',
  );
});

test('errors are one line with a code and a non-zero exit', async () => {
  const down = await cli(['-e', 'http://127.0.0.1:1', 'list-nodes']);
  assert.equal(down.code, 1);
  assert.match(
    down.stderr,
    /^mesh: error: unavailable: cannot reach http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*\n$/,
  );
  const unknown = await cli(['frobnicate']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stderr, "mesh: error: usage: unknown command 'frobnicate' (see mesh --help)\n");
  const badFormat = await cli(['-o', 'xml', 'list-nodes']);
  assert.equal(badFormat.code, 2);
  assert.match(badFormat.stderr, /^mesh: error: usage: .*Allowed choices are table, json, yaml/);
  assert.equal((await cli(['--help'])).code, 0);
});

test('colour only on a terminal without NO_COLOR; stats of an empty mesh', () => {
  assert.equal(useColor({}, true), true);
  assert.equal(useColor({ NO_COLOR: '1' }, true), false);
  assert.equal(useColor({}, false), false);
  assert.deepEqual(summarise([]), []);
  assert.equal(summarise([state('a/1')])[0]?.meanKvCacheUsage, null);
});

test('load-model / unload-model send every option and print the result; usage errors are code 2', async (t) => {
  const seen: string[] = [];
  const api = await createApiServer({
    host: '127.0.0.1',
    port: 0,
    routes: controlPlaneRoutes({
      nodes: () => [node],
      modelStates: () => [],
      records: await memoryControlRecords(),
      nodeId: 'gpu-1',
      controller: {
        endpoints: () => [{ name: 'vllm-0', runtime: 'vllm', models: ['llama', 'sql'] }],
        control: () => ({
          loadModel: async (model, options) => void seen.push(`load ${model} ${JSON.stringify(options)}`),
          unloadModel: async (model) => void seen.push(`unload ${model}`),
        }),
      },
    }),
  });
  t.after(() => api.close());
  const load = await cli([
    '-e',
    api.url,
    'load-model',
    'sql',
    '-n',
    'gpu-1',
    '--endpoint-name',
    'vllm-0',
    '--source',
    '/a',
    '--base-model',
    'llama',
    '--config',
    'rank=8',
    '--config',
    'x=a=b',
    '-o',
    'json',
  ]);
  assert.equal(load.code, 0, load.stderr);
  assert.deepEqual(JSON.parse(load.stdout), {
    model: 'sql',
    action: 'loaded',
    nodeId: 'gpu-1',
    endpointId: 'gpu-1/vllm-0',
    message: 'loaded "sql" on gpu-1/vllm-0',
  });
  const unload = await cli(['-e', api.url, 'unload-model', 'sql', '--node', 'gpu-1', '-o', 'yaml']);
  assert.equal(parseYaml(unload.stdout).action, 'unloaded');
  assert.deepEqual(seen, [
    'load sql {"source":"/a","baseModel":"llama","config":{"rank":"8","x":"a=b"}}',
    'unload sql',
  ]);
  assert.equal((await cli(['-e', api.url, 'load-model', 'sql'])).code, 2); // --node is required
  const badPair = await cli(['-e', api.url, 'load-model', 'sql', '-n', 'gpu-1', '--config', 'novalue']);
  assert.equal(badPair.code, 2);
  assert.match(badPair.stderr, /expected key=value/);
});
