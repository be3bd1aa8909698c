// GPU quarantine across nodes, as real processes: a gpu node (two simulated endpoints on two
// simulated GPUs, `sim` GPU telemetry, a temperature limit) and a router node that peers it. The
// GPU overheats through its simulator's `POST /sim/gpu-fault`, the way a real GPU's reading would
// change under the telemetry source; the gpu node quarantines it, the router learns that from the
// mirrored GPU state (WatchGpuStates) alone, and sends the endpoint nothing until
// `mesh quarantine release` (a real process, against the gpu node) brings it back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { simGpuUuid } from '../src/signal/gpu/sim/source.ts';
import { spawnMeshd, type MeshdProcess } from './helpers/processes.ts';
import { waitFor } from './helpers/local-mesh.ts';

const run = promisify(execFile);
const root = new URL('../', import.meta.url).pathname;
const listen0 = { host: '127.0.0.1', port: 0 };
const hot = simGpuUuid('gpu-q', 'sim-0');

let gpuNode: MeshdProcess;
let router: MeshdProcess;
let sim0 = '';
before(async () => {
  gpuNode = await spawnMeshd({
    apiVersion: 'infermesh/v1',
    node: { id: 'gpu-q', roles: ['gpu'] },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    gpu: {
      scrapeIntervalMs: 100,
      simulators: [0, 1].map((i) => ({ name: `sim-${i}`, timeScale: 50, seed: i + 1 })),
      telemetry: { source: 'sim', intervalMs: 100 },
      quarantine: { maxTemperatureC: 90 },
    },
  });
  sim0 = gpuNode.output().match(/simulator sim-0: (http:\/\/\S+)/)?.[1] ?? '';
  router = await spawnMeshd({
    apiVersion: 'infermesh/v1',
    node: { id: 'router-q', roles: ['router'] },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    router: { listen: listen0, peers: [{ id: 'gpu-q', url: gpuNode.urls.api }] },
  });
});
after(async () => {
  await Promise.all([router, gpuNode].filter(Boolean).map((n) => n.stop()));
});

/** The router node's view of the gpu node's GPU, over its StatePlane (Connect JSON). */
async function routerGpu(): Promise<{ healthy?: boolean; quarantineReason?: string } | undefined> {
  const res = await fetch(`${router.urls.api}/infermesh.state.v1.StatePlane/ListGpuStates`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  const { states = [] } = (await res.json()) as {
    states?: Array<{ gpuUuid: string; healthy?: boolean; quarantineReason?: string }>;
  };
  return states.find((g) => g.gpuUuid === hot);
}

/** Sends `n` requests through the router; returns how many each endpoint served. */
async function send(n: number): Promise<Map<string, number>> {
  const served = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${router.urls.router}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-llama-3-8b', prompt: 'hi', max_tokens: 2 }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    await res.text();
    const ep = res.headers.get('x-infermesh-endpoint') ?? '';
    served.set(ep, (served.get(ep) ?? 0) + 1);
  }
  return served;
}

const mesh = (...args: string[]) =>
  run(process.execPath, ['bin/mesh.js', '--endpoint', gpuNode.urls.api, ...args], {
    cwd: root,
    timeout: 15_000,
  });

test('a GPU quarantined on its node gets no traffic from a router on another node until released', async () => {
  assert.ok(sim0, 'meshd printed the simulator URL');
  await waitFor(
    async () => (await routerGpu())?.healthy === true && (await send(4)).has('gpu-q/sim-0'),
    10_000,
    'the router to mirror the GPU and route to both endpoints',
  );

  const inject = (fault: object) =>
    fetch(`${sim0}/sim/gpu-fault`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(fault),
    });
  assert.equal((await inject({ temperatureC: 97 })).status, 200);
  await waitFor(
    // JSON leaves out proto3 defaults: `healthy: false` reads as absent.
    async () => (await routerGpu())?.healthy === undefined && (await routerGpu()) !== undefined,
    5000,
    'the quarantine to reach the router',
  );
  assert.match((await routerGpu())?.quarantineReason ?? '', /^temperature: .*97 C >= 90 C/);
  // The GPU cools down, but without a cool-down in the policy only the operator brings it back.
  assert.equal((await inject({})).status, 200);

  const during = await send(12);
  assert.equal(during.get('gpu-q/sim-0') ?? 0, 0, 'no request reached the quarantined GPU’s endpoint');
  assert.equal(during.get('gpu-q/sim-1'), 12);

  const released = await mesh('quarantine', 'release', hot);
  assert.match(released.stdout, new RegExp(hot));
  // Within a stream interval: the release updates the store, which the watch pushes at once.
  await waitFor(async () => (await routerGpu())?.healthy === true, 2000, 'the release to reach the router');
  await waitFor(
    async () => (await send(4)).has('gpu-q/sim-0'),
    5000,
    'traffic back on the released GPU’s endpoint',
  );
});

test('mesh list-nodes against the router still shows both nodes', async () => {
  const { stdout } = await run(
    process.execPath,
    ['bin/mesh.js', '--endpoint', router.urls.api, 'list-nodes', '-o', 'json'],
    { cwd: root, timeout: 15_000 },
  );
  const nodes = (JSON.parse(stdout) as { nodes: Array<{ id: string; status: string }> }).nodes;
  assert.deepEqual(nodes.map((n) => `${n.id}:${n.status}`).sort(), ['gpu-q:healthy', 'router-q:healthy']);
});
