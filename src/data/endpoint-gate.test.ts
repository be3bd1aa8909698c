import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPolicyFeed } from '../control/policy-feed.ts';
import { EMPTY_ROUTING_POLICY, type RoutingPolicy } from '../control/routing-policy.ts';
import { modelState } from '../core/testing/model-state.ts';
import type { ModelState } from '../core/types.ts';
import { createStateStore } from '../signal/state/state-store.ts';
import { createEndpointGate } from './endpoint-gate.ts';
import { createEndpointSelector } from './endpoint-selector.ts';

const policy = (p: Partial<RoutingPolicy>): RoutingPolicy => ({ ...EMPTY_ROUTING_POLICY, ...p });
const a1 = modelState('a/1', { node: 'a' });
const a2 = modelState('a/2', { node: 'a' });
const b1 = modelState('b/1', { node: 'b' });
const sorted = (set: ReadonlySet<string> | undefined) => [...(set ?? [])].sort();

test('no rules: nothing is closed', () => {
  const gate = createEndpointGate({});
  assert.equal(gate('m', [a1, b1]), undefined);
});

test('a drained node’s endpoints are closed, forced or not', () => {
  const feed = createPolicyFeed(policy({ drains: [{ node: 'a', force: false }] }));
  const gate = createEndpointGate({ rules: feed });
  assert.deepEqual(sorted(gate('m', [a1, a2, b1])), ['a/1', 'a/2']);
  feed.set(policy({ drains: [{ node: 'b', force: true }] }));
  assert.deepEqual(sorted(gate('m', [a1, a2, b1])), ['b/1']);
  feed.set(EMPTY_ROUTING_POLICY);
  assert.equal(gate('m', [a1, b1]), undefined);
});

test('out-of-service endpoints (quarantine) are closed beside the rules', () => {
  const gate = createEndpointGate({ outOfService: (s) => s.endpointId === 'b/1' });
  assert.deepEqual(sorted(gate('m', [a1, b1])), ['b/1']);
});

test('pin require: only the pinned nodes, even when none of them can serve', () => {
  const feed = createPolicyFeed(policy({ pins: [{ model: 'm', nodes: ['b'], mode: 'require' }] }));
  const gate = createEndpointGate({ rules: feed });
  assert.deepEqual(sorted(gate('m', [a1, a2, b1])), ['a/1', 'a/2']);
  assert.equal(gate('other', [a1, b1]), undefined, 'another model is not pinned');
  const down: ModelState = { ...b1, health: 'unhealthy' };
  assert.deepEqual(sorted(gate('m', [a1, down])), ['a/1']);
  feed.set(
    policy({ pins: [{ model: 'm', nodes: ['b'], mode: 'require' }], drains: [{ node: 'b', force: false }] }),
  );
  assert.deepEqual(sorted(gate('m', [a1, b1])), ['a/1', 'b/1'], 'drained and required: nothing open');
});

test('pin prefer: the pinned nodes while one is routable, else every node', () => {
  const feed = createPolicyFeed(policy({ pins: [{ model: 'm', nodes: ['b'], mode: 'prefer' }] }));
  let quarantined = false;
  const gate = createEndpointGate({ rules: feed, outOfService: (s) => quarantined && s.node === 'b' });
  assert.deepEqual(sorted(gate('m', [a1, a2, b1])), ['a/1', 'a/2']);
  // Each reason the pinned endpoint cannot serve falls back to the rest.
  assert.equal(gate('m', [a1, { ...b1, health: 'unhealthy' }]), undefined);
  assert.equal(gate('m', [a1, { ...b1, loaded: false }]), undefined);
  assert.equal(gate('m', [a1]), undefined, 'pinned endpoint not a candidate (tried already)');
  quarantined = true;
  assert.deepEqual(sorted(gate('m', [a1, b1])), ['b/1']);
  quarantined = false;
  feed.set(
    policy({ pins: [{ model: 'm', nodes: ['b'], mode: 'prefer' }], drains: [{ node: 'b', force: false }] }),
  );
  assert.deepEqual(sorted(gate('m', [a1, b1])), ['b/1']);
});

test('the selector routes through the gate: picks, retries and served models', () => {
  const store = createStateStore();
  for (const s of [a1, b1]) store.upsert(s);
  const feed = createPolicyFeed(policy({ pins: [{ model: 'm', nodes: ['b'], mode: 'prefer' }] }));
  const selector = createEndpointSelector(store, { endpointGate: createEndpointGate({ rules: feed }) });
  for (let i = 0; i < 5; i++) selector.pick('m').lease.end(true);
  assert.equal(selector.pick('m').endpointId, 'b/1');
  // A retry that excludes the preferred endpoint falls back; a required one does not.
  assert.equal(selector.pick('m', new Set(['b/1'])).endpointId, 'a/1');
  feed.set(policy({ pins: [{ model: 'm', nodes: ['b'], mode: 'require' }] }));
  assert.throws(() => selector.pick('m', new Set(['b/1'])), { code: 'no_healthy_endpoint' });
  assert.deepEqual(selector.servedModels(), ['m']);
  feed.set(
    policy({
      drains: [
        { node: 'a', force: false },
        { node: 'b', force: false },
      ],
    }),
  );
  assert.throws(() => selector.pick('m'), { code: 'no_healthy_endpoint' });
  assert.deepEqual(selector.servedModels(), []);
});
