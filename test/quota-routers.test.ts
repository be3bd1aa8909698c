// A tenant's quota held by three active-active routers as real processes: the routers find each
// other by gossip, follow one control plane in a real etcd, and each enforces its share; a client
// spreading requests round robin over them, well above the quota, gets the quota (±10%) in total.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import {
  ControlPlane,
  MemberState,
  NodeRole,
  PolicyType,
} from '../src/gen/infermesh/control/v1/control_pb.js';
import { etcdSkipReason, startEtcd, type EtcdCluster } from './helpers/etcd.ts';
import { waitFor } from './helpers/local-mesh.ts';
import { spawnMeshd, type MeshdProcess } from './helpers/processes.ts';

const skip = etcdSkipReason();
const listen0 = { host: '127.0.0.1', port: 0 };
const timing = { probeIntervalMs: 200, probeTimeoutMs: 100, suspicionMult: 2, gossipIntervalMs: 50 };
const QUOTA_RPS = 20;
const BURST = 20;
const OFFERED_RPS = 50;
const WINDOW_MS = 10_000;

let etcd: EtcdCluster;
let gpu: MeshdProcess;
const routers: MeshdProcess[] = [];

function node(id: string, roles: string[], seeds: string[], extra: object = {}) {
  return {
    apiVersion: 'infermesh/v1',
    node: { id, roles },
    api: listen0,
    metrics: listen0,
    log: { level: 'warn' },
    membership: { bind: '127.0.0.1:0', seeds, timing },
    control: { store: { etcd: { endpoints: etcd.endpoints, prefix: '/quota-test/' } } },
    ...extra,
  };
}

before(async () => {
  if (skip) return;
  etcd = await startEtcd({ members: 1 });
  gpu = await spawnMeshd(
    node('gpu-1', ['gpu'], [], {
      gpu: {
        scrapeIntervalMs: 100,
        simulators: [
          { name: 'sim-0', profile: 'h100', timeScale: 50, seed: 1 },
          { name: 'sim-1', profile: 'h100', timeScale: 50, seed: 2 },
        ],
      },
    }),
  );
  for (const id of ['router-1', 'router-2', 'router-3'])
    routers.push(
      await spawnMeshd(node(id, ['router'], [gpu.urls.gossip], { router: { listen: listen0, workers: 2 } })),
    );
});
after(async () => {
  await Promise.all([gpu, ...routers].map((n) => n?.stop()));
  await etcd?.close();
});

async function complete(router: MeshdProcess, tenant?: string): Promise<number> {
  const res = await fetch(`${router.urls.router}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(tenant ? { 'x-mesh-tenant': tenant } : {}) },
    body: JSON.stringify({ model: 'sim-llama-3-8b', prompt: 'hi', max_tokens: 1 }),
  });
  await res.text();
  return res.status;
}

test('three routers hold a tenant to its quota together (±10%)', { skip, timeout: 90_000 }, async (t) => {
  const control = createClient(ControlPlane, createGrpcTransport({ baseUrl: routers[0]!.urls.api }));
  // Every router knows the three routers (its share is 1/3) and routes.
  for (const r of routers) {
    const api = createClient(ControlPlane, createGrpcTransport({ baseUrl: r.urls.api }));
    await waitFor(
      async () => {
        const { members } = await api.listMembers({});
        return (
          members.filter((m) => m.state === MemberState.ALIVE && m.roles.includes(NodeRole.ROUTER)).length ===
          3
        );
      },
      20_000,
      'three routers alive in gossip',
    );
    await waitFor(async () => (await complete(r)) === 200, 20_000, 'the router to route');
  }
  await control.createTenant({ tenant: { id: 'acme' } });
  await control.setPolicy({
    policy: {
      name: 'quota.acme.all',
      type: PolicyType.QUOTA,
      spec: { tenant: 'acme', requestsPerSecond: QUOTA_RPS, burstRequests: BURST },
    },
  });
  for (const r of routers) {
    const api = createClient(ControlPlane, createGrpcTransport({ baseUrl: r.urls.api }));
    await waitFor(
      async () => (await api.listPolicies({})).policies.length === 1,
      10_000,
      'the quota to reach every router',
    );
  }

  // Open loop, round robin over the routers, three times the quota.
  const statuses: Promise<number>[] = [];
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < WINDOW_MS) {
    const due = Math.floor(((performance.now() - started) / 1000) * OFFERED_RPS);
    for (; sent < due; sent++) statuses.push(complete(routers[sent % routers.length]!, 'acme'));
    await new Promise((r) => setTimeout(r, 5));
  }
  const windowS = (performance.now() - started) / 1000;
  const results = await Promise.all(statuses);
  const admitted = results.filter((s) => s === 200).length;
  const limited = results.filter((s) => s === 429).length;
  assert.equal(admitted + limited, results.length, `only 200 and 429: ${JSON.stringify(results)}`);
  const allowed = QUOTA_RPS * windowS + BURST;
  t.diagnostic(
    `admitted ${admitted} of ${results.length} in ${windowS.toFixed(2)} s; the quota allows ${allowed.toFixed(1)}`,
  );
  assert.ok(
    Math.abs(admitted - allowed) <= 0.1 * allowed,
    `admitted ${admitted} of ${results.length} in ${windowS.toFixed(2)} s; the quota allows ${allowed.toFixed(0)}`,
  );
  // Another tenant-less client is not limited.
  assert.equal(await complete(routers[1]!), 200);
});
