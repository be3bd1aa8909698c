// A mesh that finds itself by gossip: a router and GPU nodes that know only one seed each, as real
// processes on loopback. Nodes join and are routed to, leave cleanly, die and come back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { spawnMeshd, type MeshdProcess } from './helpers/processes.ts';
import { waitFor } from './helpers/local-mesh.ts';

const run = promisify(execFile);
const root = new URL('../', import.meta.url).pathname;
const listen0 = { host: '127.0.0.1', port: 0 };
// Fast protocol timings so deaths are found in about a second; the formulas are memberlist's.
const timing = {
  probeIntervalMs: 200,
  probeTimeoutMs: 100,
  suspicionMult: 2,
  gossipIntervalMs: 50,
  pushPullIntervalMs: 2000,
  reconnectIntervalMs: 1000,
};

function gpuNode(id: string, seeds: string[]) {
  return {
    apiVersion: 'infermesh/v1',
    node: { id, roles: ['gpu'], zone: 'zone-b', labels: { rack: 'r7' } },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    membership: { bind: '127.0.0.1:0', seeds, timing },
    gpu: {
      scrapeIntervalMs: 100,
      simulators: [{ name: 'sim-0', profile: 'h100', timeScale: 20, seed: 1 }],
    },
  };
}

interface MemberRow {
  id: string;
  state: string;
  roles: string[];
  zone: string;
  address: string;
  incarnation: number;
  apiUrl: string;
  models: string[];
}

let router: MeshdProcess;
const gpus = new Map<string, MeshdProcess>();
before(async () => {
  router = await spawnMeshd({
    apiVersion: 'infermesh/v1',
    node: { id: 'router-1', roles: ['router'], zone: 'zone-a' },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    router: { listen: listen0 },
    membership: { bind: '127.0.0.1:0', timing },
  });
});
after(async () => {
  await Promise.all([router, ...gpus.values()].map((n) => n.stop()));
});

async function members(): Promise<MemberRow[]> {
  const { stdout } = await run(
    process.execPath,
    ['bin/mesh.js', '--endpoint', router.urls.api, 'members', '-o', 'json'],
    { cwd: root },
  );
  return (JSON.parse(stdout) as { gossip: boolean; members: MemberRow[] }).members;
}

async function complete(): Promise<{ status: number; endpoint: string }> {
  const res = await fetch(`${router.urls.router}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sim-llama-3-8b', prompt: 'hello', max_tokens: 4 }),
  });
  await res.text();
  return { status: res.status, endpoint: res.headers.get('x-infermesh-endpoint') ?? '' };
}

const stateOf = async (id: string) => (await members()).find((m) => m.id === id)?.state;

test('a GPU node started with only a seed joins and is routed to', async () => {
  gpus.set('gpu-a', await spawnMeshd(gpuNode('gpu-a', [router.urls.gossip])));
  await waitFor(async () => (await complete()).status === 200, 15_000, 'the router to route to gpu-a');
  assert.equal((await complete()).endpoint, 'gpu-a/sim-0');

  const list = await members();
  const a = list.find((m) => m.id === 'gpu-a');
  assert.ok(a, JSON.stringify(list));
  assert.equal(a.state, 'alive');
  assert.deepEqual(a.roles, ['gpu']);
  assert.equal(a.zone, 'zone-b');
  assert.equal(a.address, gpus.get('gpu-a')!.urls.gossip);
  assert.equal(a.apiUrl, gpus.get('gpu-a')!.urls.api);
  assert.ok(a.incarnation >= 0);
  await waitFor(
    async () => (await members()).find((m) => m.id === 'gpu-a')?.models.length === 1,
    5000,
    'models',
  );
  assert.equal(list.find((m) => m.id === 'router-1')?.state, 'alive');
});

test('a node seeded with another GPU node is found by the router through gossip', async () => {
  gpus.set('gpu-b', await spawnMeshd(gpuNode('gpu-b', [gpus.get('gpu-a')!.urls.gossip])));
  const seen = new Set<string>();
  await waitFor(
    async () => {
      seen.add((await complete()).endpoint);
      return seen.has('gpu-b/sim-0');
    },
    15_000,
    'traffic on gpu-b',
  );
  const table = await run(process.execPath, ['bin/mesh.js', '--endpoint', router.urls.api, 'members'], {
    cwd: root,
  });
  assert.match(table.stdout, /^ID\s+STATE\s+ROLES\s+ZONE\s+ADDRESS\s+INCARNATION/m);
  assert.match(table.stdout, /^gpu-b\s+alive\s+gpu\s+zone-b\s+127\.0\.0\.1:\d+/m);
});

test('a node that leaves is marked left and gets no more traffic', async () => {
  assert.equal(await gpus.get('gpu-b')!.stop(), 0);
  gpus.delete('gpu-b');
  await waitFor(async () => (await stateOf('gpu-b')) === 'left', 5000, 'gpu-b left');
  for (let i = 0; i < 8; i++) assert.deepEqual(await complete(), { status: 200, endpoint: 'gpu-a/sim-0' });
});

test('a node that dies leaves routing, shows in /readyz detail, and rejoins when it comes back', async () => {
  const a = gpus.get('gpu-a')!;
  a.child.kill('SIGKILL');
  await a.stop();
  gpus.delete('gpu-a');
  await waitFor(async () => (await complete()).status === 503, 5000, 'gpu-a out of routing');
  await waitFor(async () => (await stateOf('gpu-a')) === 'dead', 10_000, 'gpu-a dead');
  const ready = (await (await fetch(`${router.urls.metrics}/readyz`)).json()) as {
    status: string;
    detail: { gossip: { members: Record<string, number> }; unreachablePeers: string[] };
  };
  assert.equal(ready.status, 'ready');
  assert.equal(ready.detail.gossip.members.dead, 1);
  assert.deepEqual(ready.detail.unreachablePeers, ['gpu-a']);
  const metrics = await (await fetch(`${router.urls.metrics}/metrics`)).text();
  assert.match(metrics, /^infermesh_membership_members\{state="dead"\} 1$/m);
  assert.match(metrics, /^infermesh_router_peer_up\{peer="gpu-a",origin="gossip"\} 0$/m);

  gpus.set('gpu-a', await spawnMeshd(gpuNode('gpu-a', [router.urls.gossip])));
  await waitFor(async () => (await stateOf('gpu-a')) === 'alive', 10_000, 'gpu-a alive again');
  await waitFor(async () => (await complete()).status === 200, 15_000, 'traffic on gpu-a again');
  assert.equal((await complete()).endpoint, 'gpu-a/sim-0');
});
