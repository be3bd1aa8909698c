// Gossip decides whom a router follows, stream health decides routing: over an in-memory gossip
// network (partitions on demand) and real StatePlane servers on loopback.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { modelState } from '../src/core/testing/model-state.ts';
import type { NodeMeta } from '../src/core/types.ts';
import { createMember, createRealClock, createSeededRandom, type Member } from '../src/membership/index.ts';
import { createMemoryNetwork } from '../src/membership/testing/memory-transport.ts';
import { createLogger } from '../src/observability/log.ts';
import { createGpuStore } from '../src/signal/state/gpu-store.ts';
import { statePlaneRoutes } from '../src/signal/state/state-plane-service.ts';
import { createStateStore } from '../src/signal/state/state-store.ts';
import { createApiServer } from '../src/agent/api-server.ts';
import { followGossip } from '../src/agent/gossip-peers.ts';
import { meshMembers, type MembershipRole } from '../src/agent/membership-role.ts';
import { encodeNodeMeta } from '../src/agent/node-meta.ts';
import { createPeerSet } from '../src/agent/peer-set.ts';
import { waitFor } from './helpers/local-mesh.ts';

const timing = {
  probeIntervalMs: 100,
  probeTimeoutMs: 50,
  suspicionMult: 2,
  gossipIntervalMs: 30,
  reconnectIntervalMs: 300,
};
const logger = createLogger('silent');

function nodeMeta(apiUrl: string): NodeMeta {
  return {
    roles: ['gpu'],
    zone: 'z',
    apiUrl,
    labels: {},
    gpuCount: 0,
    gpuTypes: [],
    models: ['m'],
    modelsTruncated: false,
    draining: false,
    version: 'test',
  };
}

function role(member: Member): MembershipRole {
  return {
    member,
    address: member.address,
    joined: () => true,
    members: () => meshMembers(member),
    setDraining: () => undefined,
    stop: async () => member.close(),
  };
}

/** A GPU node: a StatePlane server holding one healthy endpoint, and its gossip member. */
async function gpuNode(t: TestContext, net: ReturnType<typeof createMemoryNetwork>, id: string) {
  const store = createStateStore();
  store.upsert(modelState(`${id}/e0`, { node: id }));
  const api = await createApiServer({
    host: '127.0.0.1',
    port: 0,
    routes: (r) => statePlaneRoutes({ store, nodeId: id })(r),
  });
  t.after(() => api.close());
  const member = createMember({
    id,
    transport: net.connect(`${id}:1`),
    clock: createRealClock(),
    config: timing,
    meta: encodeNodeMeta(nodeMeta(api.url), 512),
  });
  t.after(() => member.close());
  return { api, member };
}

/** A router: its gossip member, its state store, and the peers gossip makes it follow. */
function routerNode(t: TestContext, net: ReturnType<typeof createMemoryNetwork>) {
  const routerMember = createMember({
    id: 'router',
    transport: net.connect('router:1'),
    clock: createRealClock(),
    config: timing,
  });
  t.after(() => routerMember.close());
  const store = createStateStore();
  const peers = createPeerSet({ store, gpus: createGpuStore(), logger });
  t.after(() => peers.stop());
  t.after(followGossip(role(routerMember), peers, { selfId: 'router', configuredUrls: [], logger }));
  return { routerMember, store, peers };
}

test('a router follows GPU nodes gossip finds and keeps routing to those it still reaches when gossip is cut', async (t) => {
  const net = createMemoryNetwork({ clock: createRealClock(), random: createSeededRandom(7) });
  const a = await gpuNode(t, net, 'gpu-a');
  const b = await gpuNode(t, net, 'gpu-b');
  const { routerMember, store, peers } = routerNode(t, net);
  await a.member.join(['router:1']);
  await b.member.join(['router:1']);

  const health = (id: string) => store.get(`${id}/e0`, 'm')?.health;
  await waitFor(() => health('gpu-a') === 'healthy' && health('gpu-b') === 'healthy', 5000, 'both followed');
  assert.deepEqual(
    peers
      .list()
      .map((p) => p.id)
      .sort(),
    ['gpu-a', 'gpu-b'],
  );

  // The router is cut off from gossip; gpu-b also dies (its API closes). gpu-a's stream still works.
  net.partition(['router:1'], ['gpu-a:1', 'gpu-b:1']);
  await b.api.close();
  await waitFor(
    () => routerMember.members().filter((m) => m.status === 'dead').length === 2,
    10_000,
    'the router to find both dead',
  );
  await waitFor(() => health('gpu-b') === 'unhealthy', 5000, 'gpu-b unknown');
  // The recheck dialled gpu-a again and its snapshot came back: still routable.
  await waitFor(() => peers.get('gossip:gpu-a')?.subscriber.connected() === true, 5000, 'gpu-a reconnected');
  assert.equal(health('gpu-a'), 'healthy');
  assert.equal(peers.list().length, 2, 'dead members stay followed (their endpoints unknown, not gone)');

  net.heal();
  await waitFor(() => routerMember.member('gpu-a')?.status === 'alive', 10_000, 'gpu-a alive after the heal');
  assert.equal(health('gpu-a'), 'healthy');
});

test('a member that leaves is unfollowed and its endpoints are gone', async (t) => {
  const net = createMemoryNetwork({ clock: createRealClock(), random: createSeededRandom(8) });
  const a = await gpuNode(t, net, 'gpu-a');
  const { store, peers } = routerNode(t, net);
  await a.member.join(['router:1']);
  await waitFor(() => store.get('gpu-a/e0', 'm')?.health === 'healthy', 5000, 'gpu-a followed');
  await a.member.leave();
  await waitFor(() => peers.list().length === 0 && store.list().length === 0, 5000, 'gpu-a unfollowed');
});
