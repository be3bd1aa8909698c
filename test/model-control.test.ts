// LoadModel / UnloadModel end to end: `mesh load-model` (a real process) → a router meshd (a real
// process) → forwarded over Connect → the gpu node's ControlPlane → the vLLM endpoint's LoRA API
// (a fake vLLM with the real routes and answers). The gpu node runs in-process with the real
// runtime scraper; once the scraper exposes `control()` the call goes through it, until then
// through a minimal vLLM LoRA control defined here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createApiServer } from '../src/agent/api-server.ts';
import { scraperController } from '../src/agent/services.ts';
import { registerApiServices } from '../src/agent/services.ts';
import type { EndpointControl, ModelController } from '../src/control/model-control.ts';
import { MeshError } from '../src/core/errors.ts';
import { createLogger } from '../src/observability/log.ts';
import { createRuntimeScraper } from '../src/signal/runtime/scraper.ts';
import { startFakeVllm, vllmModelList } from '../src/signal/runtime/testing/fake-vllm-server.ts';
import { createGpuStore } from '../src/signal/state/gpu-store.ts';
import { createStateStore } from '../src/signal/state/state-store.ts';
import { memoryControlRecords } from '../src/control/testing/memory-records.ts';
import { waitFor } from './helpers/local-mesh.ts';
import { spawnMeshd } from './helpers/processes.ts';
import { runMesh } from './helpers/mesh-cli.ts';

const metricsPage = readFileSync(
  new URL('../src/signal/runtime/vllm/fixtures/vllm-0.10.0-v1-engine0.prom', import.meta.url),
  'utf8',
);

const mesh = (args: string[]) => runMesh(args, {}, 20_000);

/** vLLM's LoRA API as the runtime adapters speak it (used only while the scraper has no `control`). */
function vllmLoraControl(base: string): EndpointControl {
  const post = async (path: string, body: object) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (res.ok) return;
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch {
      // a plain-text error body: keep it as it is
    }
    throw new MeshError(res.status === 404 ? 'not_found' : 'invalid_request', message);
  };
  return {
    loadModel: (model, options) =>
      post('/v1/load_lora_adapter', { lora_name: model, lora_path: options?.source }),
    unloadModel: (model) => post('/v1/unload_lora_adapter', { lora_name: model }),
  };
}

test('mesh load-model / unload-model reach the vLLM of a gpu node through a router meshd', async (t) => {
  const vllm = await startFakeVllm({ metrics: metricsPage, models: vllmModelList(['llama']) });
  vllm.loraRoutes = true;
  t.after(() => vllm.close());

  // The gpu node: the real scraper into a store, served by the real API services.
  const logger = createLogger('silent');
  const store = createStateStore();
  const scraper = createRuntimeScraper({
    node: 'gpu-1',
    endpoints: [{ name: 'vllm-0', runtime: 'vllm', url: vllm.url }],
    intervalMs: 100,
    timeoutMs: 1000,
    unhealthyAfter: 3,
    store,
    logger,
  });
  t.after(() => scraper.stop());
  await scraper.scrapeOnce();
  scraper.start();
  const viaScraper = typeof (scraper as { control?: unknown }).control === 'function';
  const controller: ModelController = viaScraper
    ? scraperController(scraper)
    : { endpoints: () => scraper.endpoints(), control: () => vllmLoraControl(vllm.url) };
  let gpuApiUrl = '';
  const gpuNode = {
    id: 'gpu-1',
    roles: ['gpu' as const],
    zone: '',
    labels: {},
    status: 'healthy' as const,
    lastSeen: 0,
    version: '',
    apiUrl: '',
  };
  const records = await memoryControlRecords('gpu-1');
  const gpuApi = await createApiServer({
    host: '127.0.0.1',
    port: 0,
    routes: (r) =>
      registerApiServices(r, {
        store,
        gpus: createGpuStore(),
        directory: {
          nodes: () => [{ ...gpuNode, apiUrl: gpuApiUrl }],
          members: () => undefined,
          setApiUrl: () => undefined,
          setMembership: () => undefined,
        },
        nodeId: 'gpu-1',
        controller,
        records,
      }),
  });
  gpuApiUrl = gpuApi.url;
  t.after(() => gpuApi.close());

  // The router node: a real meshd process that mirrors gpu-1 and forwards control calls to it.
  const router = await spawnMeshd({
    apiVersion: 'infermesh/v1',
    node: { id: 'router-1', roles: ['router'] },
    api: { port: 0 },
    metrics: { port: 0 },
    log: { level: 'warn' },
    router: { listen: { port: 0 }, peers: [{ id: 'gpu-1', url: gpuApi.url }] },
  });
  t.after(() => router.stop().then(() => undefined));
  const api = router.urls.api;
  await waitFor(
    async () => {
      const res = await mesh(['-e', api, 'list-models', '-o', 'json']);
      return res.code === 0 && res.stdout.includes('"llama"');
    },
    15_000,
    'router to mirror gpu-1',
  );

  const load = await mesh([
    '-e',
    api,
    '-o',
    'json',
    'load-model',
    'sql-lora',
    '--node',
    'gpu-1',
    '--source',
    '/adapters/sql',
  ]);
  assert.equal(load.code, 0, load.stderr);
  assert.deepEqual(JSON.parse(load.stdout), {
    model: 'sql-lora',
    action: 'loaded',
    nodeId: 'gpu-1',
    endpointId: 'gpu-1/vllm-0',
    message: 'loaded "sql-lora" on gpu-1/vllm-0',
  });
  assert.equal(vllm.loras.get('sql-lora'), '/adapters/sql');

  // vLLM's own refusal comes back through both hops with a stable code, as one line.
  const again = await mesh([
    '-e',
    api,
    'load-model',
    'sql-lora',
    '-n',
    'gpu-1',
    '--endpoint-name',
    'vllm-0',
    '--source',
    '/x',
  ]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^mesh: error: invalid_request: .*already been loaded[^\n]*\n$/);

  const [unload, missing, unknownNode] = await Promise.all([
    mesh(['-e', api, 'unload-model', 'sql-lora', '--node', 'gpu-1', '--endpoint-name', 'vllm-0']),
    mesh(['-e', api, 'unload-model', 'sql-lora', '--node', 'gpu-1', '--endpoint-name', 'vllm-9']),
    mesh(['-e', api, 'load-model', 'x', '--node', 'gpu-7']),
  ]);
  assert.equal(unload.code, 0, unload.stderr);
  assert.match(
    unload.stdout,
    /^MODEL\s+ACTION\s+NODE\s+ENDPOINT\nsql-lora\s+unloaded\s+gpu-1\s+gpu-1\/vllm-0\n$/,
  );
  assert.equal(vllm.loras.size, 0);
  assert.match(missing.stderr, /^mesh: error: not_found: no endpoint "vllm-9" on node gpu-1\n$/);
  assert.match(unknownNode.stderr, /^mesh: error: not_found: no node "gpu-7"\n$/);
});
