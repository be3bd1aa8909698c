// Two meshd processes sharing one control plane in a real three-member etcd cluster: what one
// writes the other follows; with two members stopped (no quorum) routing goes on with the last
// known policies, reads answer from the mirror marked stale and writes fail fast with
// `unavailable`; once the members are back, writes succeed and the other node's watch resumes
// without restarting anything.
import { after, before, test } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { Code, ConnectError, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { ControlPlane, NodeStatus, PolicyType } from '../src/gen/infermesh/control/v1/control_pb.js';
import { etcdSkipReason, startEtcd, type EtcdCluster } from './helpers/etcd.ts';
import { waitFor } from './helpers/local-mesh.ts';
import { spawnMeshd, type MeshdProcess } from './helpers/processes.ts';

const run = promisify(execFile);
const root = new URL('../', import.meta.url).pathname;
const skip = etcdSkipReason();
const listen0 = { host: '127.0.0.1', port: 0 };
let etcd: EtcdCluster;
let a: MeshdProcess;
let b: MeshdProcess;
let controlA: Client<typeof ControlPlane>;
let controlB: Client<typeof ControlPlane>;

function node(id: string, endpoints: string[], gpu: boolean) {
  return {
    apiVersion: 'infermesh/v1',
    node: { id, roles: gpu ? ['router', 'gpu'] : ['router'] },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    router: { listen: listen0, workers: 1 },
    control: { store: { etcd: { endpoints, prefix: '/mesh-test/', requestTimeoutMs: 2000 } } },
    ...(gpu
      ? {
          gpu: {
            scrapeIntervalMs: 100,
            simulators: [{ name: 'sim-0', profile: 'h100', timeScale: 20, seed: 1 }],
          },
        }
      : {}),
  };
}

before(async () => {
  if (skip) return;
  etcd = await startEtcd({ members: 3 });
  [a, b] = await Promise.all([
    spawnMeshd(node('node-a', etcd.endpoints, true)),
    spawnMeshd(node('node-b', etcd.endpoints, false)),
  ]);
  controlA = createClient(ControlPlane, createGrpcTransport({ baseUrl: a.urls.api }));
  controlB = createClient(ControlPlane, createGrpcTransport({ baseUrl: b.urls.api }));
});
after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await etcd?.close();
});

async function complete(): Promise<number> {
  const res = await fetch(`${a.urls.router}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sim-llama-3-8b', prompt: 'hello', max_tokens: 4 }),
  });
  await res.text();
  return res.status;
}

const slo = (ttftMs: number) => ({
  policy: { name: 'slo.chat', type: PolicyType.SLO, spec: { class: 'latency', ttftMs } },
});

async function policyOn(client: Client<typeof ControlPlane>) {
  const headers: Headers[] = [];
  const { policies } = await client.listPolicies({}, { onHeader: (h) => headers.push(h) });
  const chat = policies.find((p) => p.name === 'slo.chat');
  return { ttftMs: chat?.spec?.ttftMs, stale: headers[0]?.get('mesh-stale') === 'true' };
}

test('one control plane in etcd: a write on one node is seen by the other', { skip }, async () => {
  await controlA.setPolicy(slo(800));
  await waitFor(async () => (await policyOn(controlB)).ttftMs === 800, 10_000, 'node-b to see the policy');
  await controlB.drainNode({ nodeId: 'node-b' });
  const drained = await controlB.listNodes({ statusFilter: NodeStatus.DRAINING });
  assert.deepEqual(
    drained.nodes.map((n) => n.id),
    ['node-b'],
  );
  const events = [];
  for await (const e of controlA.subscribeEvents({})) events.push(e.sourceNode);
  assert.ok(
    events.includes('node-a') && events.includes('node-b'),
    `events from both nodes: ${events.join(',')}`,
  );
  await controlB.undrainNode({ nodeId: 'node-b' });
});

test(
  'from the CLI on etcd: drain, pin, tenant and quota written through one node, events read through the other',
  { skip },
  async () => {
    const mesh = (endpoint: string, ...args: string[]) =>
      run(process.execPath, ['bin/mesh.js', '--endpoint', endpoint, ...args], {
        cwd: root,
        env: { ...process.env, NO_COLOR: '1' },
      });
    await mesh(b.urls.api, 'drain', 'node-b');
    await mesh(b.urls.api, 'undrain', 'node-b');
    await mesh(b.urls.api, 'pin', 'sim-llama-3-8b', '-n', 'node-a');
    await mesh(b.urls.api, 'tenant', 'create', 'acme');
    await mesh(b.urls.api, 'quota', 'set', 'acme', '--rps', '50');
    await waitFor(
      async () => {
        const { stdout } = await mesh(
          a.urls.api,
          'events',
          '-o',
          'json',
          '-t',
          'node_draining',
          '-t',
          'tenant_created',
          '-t',
          'policy_created',
        );
        const types = (JSON.parse(stdout) as { events: Array<{ type: string }> }).events.map((e) => e.type);
        return ['node_draining', 'tenant_created', 'policy_created'].every((t) => types.includes(t));
      },
      10_000,
      'node-a to list the events written through node-b',
    );
    const { stdout } = await mesh(a.urls.api, 'placements', '-o', 'json');
    const { placements } = JSON.parse(stdout) as {
      placements: Array<{ model: string; loadedNodes: string[] }>;
    };
    assert.deepEqual(
      placements.map((p) => [p.model, p.loadedNodes]),
      [['sim-llama-3-8b', ['node-a']]],
    );
    await mesh(a.urls.api, 'unpin', 'sim-llama-3-8b');
  },
);

test(
  'without quorum: routing goes on, reads are stale, writes fail fast; then everything resumes',
  { skip },
  async () => {
    await waitFor(async () => (await complete()) === 200, 15_000, 'node-a to route');
    await Promise.all([etcd.stop(1), etcd.stop(2)]);

    // Writes: refused with `unavailable` ("no quorum"), not hung on etcd's own timeout.
    await waitFor(
      async () => {
        const started = Date.now();
        const err = await controlA.setPolicy(slo(900)).then(
          () => undefined,
          (e: unknown) => ConnectError.from(e),
        );
        return (
          err?.code === Code.Unavailable && /no quorum/.test(err.rawMessage) && Date.now() - started < 5000
        );
      },
      15_000,
      'writes to fail fast with no quorum',
    );
    // Reads: the last known state, marked stale.
    await waitFor(async () => (await policyOn(controlB)).stale, 10_000, 'node-b to mark its reads stale');
    assert.equal((await policyOn(controlB)).ttftMs, 800);
    // Routing: unaffected.
    assert.equal(await complete(), 200);

    await Promise.all([etcd.start(1), etcd.start(2)]);
    await waitFor(
      async () =>
        await controlA.setPolicy(slo(700)).then(
          () => true,
          () => false,
        ),
      20_000,
      'writes to succeed again',
    );
    // node-b's watch resumed by itself: it sees the write made after the outage, and is fresh again.
    await waitFor(
      async () => {
        const p = await policyOn(controlB);
        return p.ttftMs === 700 && !p.stale;
      },
      15_000,
      'node-b to follow again',
    );
  },
);
