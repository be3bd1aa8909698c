import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MeshError } from '../core/errors.ts';
import { modelState } from '../core/testing/model-state.ts';
import { createStateStore } from '../signal/state/state-store.ts';
import { createEndpointSelector } from './endpoint-selector.ts';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as MeshError).code;
  }
  return 'none';
};

test('unknown model is model_not_found; known but unroutable is no_healthy_endpoint', () => {
  const store = createStateStore();
  const selector = createEndpointSelector(store);
  assert.equal(
    codeOf(() => selector.pick('m')),
    'model_not_found',
  );
  store.upsert(modelState('a', { health: 'unhealthy' }));
  store.upsert(modelState('b', { loaded: false }));
  assert.equal(
    codeOf(() => selector.pick('m')),
    'no_healthy_endpoint',
  );
  store.upsert(modelState('c', { health: 'stale' }));
  assert.equal(selector.pick('m').endpointId, 'c');
});

test('picks the least loaded endpoint from reported state', () => {
  const store = createStateStore();
  store.upsert(modelState('busy', { running: 8, queueDepth: 4 }));
  store.upsert(modelState('idle', { running: 1, queueDepth: 0 }));
  const selector = createEndpointSelector(store);
  assert.equal(selector.pick('m').endpointId, 'idle');
});

test('own in-flight count spreads a burst even while polled state is stale', () => {
  const store = createStateStore();
  for (const id of ['a', 'b', 'c', 'd']) store.upsert(modelState(id, { running: 0, queueDepth: 0 }));
  const selector = createEndpointSelector(store, () => 0);
  const picked = new Map<string, number>();
  for (let i = 0; i < 40; i++) {
    const target = selector.pick('m'); // its lease stays open: the request is in flight
    picked.set(target.endpointId, (picked.get(target.endpointId) ?? 0) + 1);
  }
  assert.deepEqual([...picked.values()], [10, 10, 10, 10]);
});

test('a lease ends once however often it is ended; excluded endpoints are skipped', () => {
  const store = createStateStore();
  store.upsert(modelState('a'));
  store.upsert(modelState('b', { running: 5 }));
  const selector = createEndpointSelector(store);
  const route = selector.pick('m');
  const lease = route.lease;
  assert.equal(route.endpointId, 'a');
  assert.equal(selector.inFlight('a'), 1);
  lease.end(true);
  lease.end(true);
  assert.equal(selector.inFlight('a'), 0);
  assert.equal(selector.pick('m', new Set(['a'])).endpointId, 'b');
  assert.equal(
    codeOf(() => selector.pick('m', new Set(['a', 'b']))),
    'no_healthy_endpoint',
  );
});

test('servedModels lists models with a routable endpoint, sorted', () => {
  const store = createStateStore();
  store.upsert(modelState('a', { model: 'z' }));
  store.upsert(modelState('b', { model: 'y' }));
  store.upsert(modelState('c', { model: 'x', health: 'unhealthy' }));
  assert.deepEqual(createEndpointSelector(store).servedModels(), ['y', 'z']);
});

test('pick filters by protocol: absent protocols means OpenAI only', () => {
  const store = createStateStore();
  store.upsert(modelState('vllm'));
  store.upsert(modelState('tgi', { runtime: 'tgi', protocols: ['tgi', 'openai'], running: 3 }));
  store.upsert(modelState('triton', { runtime: 'triton', protocols: ['kserve-v2'] }));
  const selector = createEndpointSelector(store);
  assert.equal(selector.pick('m', new Set(), 'tgi').endpointId, 'tgi');
  assert.equal(selector.pick('m', new Set(), 'kserve-v2').endpointId, 'triton');
  assert.equal(selector.pick('m').endpointId, 'vllm');
  assert.equal(selector.pick('m', new Set(['vllm']), 'openai').endpointId, 'tgi');
  assert.equal(
    codeOf(() => selector.pick('m', new Set(), 'torchserve')),
    'no_healthy_endpoint',
  );
  assert.equal(
    codeOf(() => selector.pick('other', new Set(), 'tgi')),
    'model_not_found',
  );
  assert.deepEqual(selector.servedModels('kserve-v2'), ['m']);
  assert.deepEqual(selector.servedModels('tfserving'), []);
});

test('hints reach the engine: a shared prompt prefix returns to its endpoint; leases end the count', () => {
  const store = createStateStore();
  for (const id of ['a', 'b']) store.upsert(modelState(id, { gpuType: 'H100' }));
  const selector = createEndpointSelector(store, () => 0);
  const prefix = Uint32Array.from({ length: 64 }, (_, i) => i + 1);
  const hints = { promptTokens: 64 * 64, maxTokens: 16, blockHashes: prefix };
  const { lease, endpointId: first } = selector.pick('m', undefined, 'openai', hints);
  lease.firstToken();
  lease.end(true);
  assert.equal(selector.inFlight(first), 0);
  const other = first === 'a' ? 'b' : 'a';
  selector.pick('m', new Set([other])); // one request in flight there: alone, it would send the next pick away
  assert.equal(selector.pick('m', undefined, 'openai', hints).endpointId, first);
});
