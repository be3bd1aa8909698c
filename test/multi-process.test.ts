// The three-terminal setup of the README as real processes on free ports: two GPU nodes, one router.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { spawnMeshd, type MeshdProcess } from './helpers/processes.ts';
import { waitFor } from './helpers/local-mesh.ts';

const run = promisify(execFile);
const root = new URL('../', import.meta.url).pathname;
const listen0 = { host: '127.0.0.1', port: 0 };

function gpuNode(id: string, profile: 'h100' | 'a100') {
  return {
    apiVersion: 'infermesh/v1',
    node: { id, roles: ['gpu'] },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    gpu: {
      scrapeIntervalMs: 100,
      simulators: [0, 1].map((i) => ({ name: `${profile}-${i}`, profile, timeScale: 20, seed: i + 1 })),
    },
  };
}

const nodes: MeshdProcess[] = [];
let router: MeshdProcess;
before(async () => {
  const [a, b] = await Promise.all([
    spawnMeshd(gpuNode('gpu-a', 'h100')),
    spawnMeshd(gpuNode('gpu-b', 'a100')),
  ]);
  nodes.push(a, b);
  router = await spawnMeshd({
    apiVersion: 'infermesh/v1',
    node: { id: 'router-1', roles: ['router'] },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    router: {
      listen: listen0,
      peers: [
        { id: 'gpu-a', url: a.urls.api },
        { id: 'gpu-b', url: b.urls.api },
      ],
    },
  });
  nodes.push(router);
});
after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

test('the router learns both GPU nodes and spreads traffic over all four endpoints', async () => {
  await waitFor(
    async () => {
      const res = await fetch(`${router.urls.router}/v1/models`);
      const body = (await res.json()) as { data: Array<{ id: string }> };
      return body.data.some((m) => m.id === 'sim-llama-3-8b');
    },
    10_000,
    'the router to learn the model from its peers',
  );
  const seen = new Set<string>();
  const requests = Array.from({ length: 24 }, async () => {
    const res = await fetch(`${router.urls.router}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-llama-3-8b', prompt: 'hello', max_tokens: 16 }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    seen.add(res.headers.get('x-infermesh-endpoint') ?? '');
    await res.text();
  });
  await Promise.all(requests);
  assert.deepEqual([...seen].sort(), ['gpu-a/h100-0', 'gpu-a/h100-1', 'gpu-b/a100-0', 'gpu-b/a100-1']);
});

test('mesh list-nodes against the router shows itself and both peers', async () => {
  const { stdout } = await run(
    process.execPath,
    ['bin/mesh.js', '--endpoint', router.urls.api, 'list-nodes', '-o', 'json'],
    {
      cwd: root,
    },
  );
  const ids = (JSON.parse(stdout) as { nodes: Array<{ id: string }> }).nodes.map((n) => n.id).sort();
  assert.deepEqual(ids, ['gpu-a', 'gpu-b', 'router-1']);
});

test('the router metrics count the requests it routed', async () => {
  const text = await (await fetch(`${router.urls.metrics}/metrics`)).text();
  const routed = [...text.matchAll(/^infermesh_router_requests_total\{[^}]*status="200"[^}]*\} (\d+)/gm)];
  const total = routed.reduce((sum, m) => sum + Number(m[1]), 0);
  assert.ok(total >= 24, `routed: ${total}`);
});

test('SIGINT stops every process cleanly', async () => {
  const codes = await Promise.all(nodes.map((n) => n.stop()));
  assert.deepEqual(codes, [0, 0, 0]);
});
