import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { MeshError } from '../../core/errors.ts';
import { modelState } from '../../core/testing/model-state.ts';
import { createStateStore } from '../../signal/state/state-store.ts';
import { createEndpointSelector } from '../endpoint-selector.ts';
import type { Route, RouteDecider } from '../route-decider.ts';
import { createDecisionOwner } from './owner.ts';
import { createRemoteDecider } from './remote-decider.ts';

/** Four identical idle endpoints, one owner and `n` workers' deciders on real message ports. */
function setup(workers: number) {
  const store = createStateStore();
  for (const id of ['a', 'b', 'c', 'd']) store.upsert(modelState(id, { gpuType: 'H100' }));
  const selector = createEndpointSelector(store, () => 0);
  const owner = createDecisionOwner(selector);
  const ports: MessagePort[] = [];
  const deciders: RouteDecider[] = [];
  for (let i = 0; i < workers; i++) {
    const { port1, port2 } = new MessageChannel();
    owner.attach(port1);
    ports.push(port2);
    deciders.push(createRemoteDecider(port2, { blockTokens: selector.blockTokens }));
  }
  return {
    selector,
    owner,
    deciders,
    close: () => {
      owner.stop();
      for (const p of ports) p.close();
    },
  };
}

const tally = (routes: Route[]) => {
  const out: Record<string, number> = {};
  for (const r of routes) out[r.endpointId] = (out[r.endpointId] ?? 0) + 1;
  return out;
};

test('a burst split unevenly over workers lands as one router places it, not once per worker', async (t) => {
  const { deciders, selector, close } = setup(2);
  t.after(close);
  // Three picks from one worker and one from the other, in the same turn: independent routers
  // would each start on the same idle endpoint; one owner spreads all four.
  const [w0, w1] = deciders as [RouteDecider, RouteDecider];
  const routes = await Promise.all([w0.pick('m'), w0.pick('m'), w0.pick('m'), w1.pick('m')]);
  assert.deepEqual(tally(routes), { a: 1, b: 1, c: 1, d: 1 });
  assert.equal(selector.inFlight('a'), 1, 'the owner counts the worker-held lease');

  // The same four picks from one in-process selector place the same way.
  const store = createStateStore();
  for (const id of ['a', 'b', 'c', 'd']) store.upsert(modelState(id, { gpuType: 'H100' }));
  const single = createEndpointSelector(store, () => 0);
  const alone = [single.pick('m'), single.pick('m'), single.pick('m'), single.pick('m')];
  assert.deepEqual(
    routes.map((r) => r.endpointId),
    alone.map((r) => r.endpointId),
  );
});

test('lease reports cross to the owner: ending a lease frees its endpoint there', async (t) => {
  const { deciders, selector, owner, close } = setup(1);
  t.after(close);
  const route = await deciders[0]!.pick('m');
  assert.equal(owner.openLeases(), 1);
  route.lease.firstToken();
  route.lease.end(true);
  route.lease.end(true); // idempotent
  await waitUntil(() => owner.openLeases() === 0);
  assert.equal(selector.inFlight(route.endpointId), 0);
});

test('refusals keep their stable code and details; served models follow the owner', async (t) => {
  const { deciders, close } = setup(1);
  t.after(close);
  const decider = deciders[0]!;
  await assert.rejects(
    Promise.resolve(decider.pick('nope')),
    (err: unknown) => err instanceof MeshError && err.code === 'model_not_found',
  );
  await assert.rejects(
    Promise.resolve(decider.pick('m', new Set(['a', 'b', 'c', 'd']))),
    (err: unknown) => err instanceof MeshError && err.code === 'no_healthy_endpoint',
  );
  await waitUntil(() => decider.knowsModel('m'));
  assert.deepEqual(decider.servedModels('openai'), ['m']);
  assert.deepEqual(decider.servedModels('tgi'), []);
  assert.equal(decider.knowsModel('nope'), false);
});

test('a worker that goes away has its open leases ended at the owner', async (t) => {
  const store = createStateStore();
  store.upsert(modelState('a'));
  const selector = createEndpointSelector(store, () => 0);
  const owner = createDecisionOwner(selector);
  t.after(() => owner.stop());
  const { port1, port2 } = new MessageChannel();
  owner.attach(port1);
  const decider = createRemoteDecider(port2, { blockTokens: selector.blockTokens });
  await decider.pick('m');
  await decider.pick('m');
  assert.equal(selector.inFlight('a'), 2);
  port2.close();
  await waitUntil(() => owner.openLeases() === 0);
  assert.equal(selector.inFlight('a'), 0);
});

async function waitUntil(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
