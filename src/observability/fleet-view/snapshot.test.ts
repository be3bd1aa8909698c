import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GpuState } from '../../core/gpu.ts';
import type { ModelState } from '../../core/types.ts';
import { buildFleetSnapshot } from './snapshot.ts';

const model = (endpointId: string, extra: Partial<ModelState> = {}): ModelState => ({
  endpointId,
  endpointUrl: `http://127.0.0.1/${endpointId}`,
  node: endpointId.split('/')[0]!,
  model: 'llama',
  runtime: 'vllm',
  health: 'healthy',
  loaded: true,
  warming: false,
  updatedAt: 1,
  ...extra,
});
const gpu = (node: string, uuid: string, extra: Partial<GpuState> = {}): GpuState => ({
  uuid,
  index: 0,
  name: 'H100',
  node,
  healthy: true,
  updatedAt: 1,
  source: 'sim',
  ...extra,
});

test('the snapshot joins endpoints, GPUs, quarantine, in-flight and nodes', () => {
  const snap = buildFleetSnapshot({
    node: 'a',
    now: () => 42,
    nodes: () => [
      {
        id: 'a',
        roles: ['router', 'gpu'],
        zone: 'z1',
        labels: {},
        status: 'healthy',
        lastSeen: 0,
        version: '1',
        apiUrl: '',
      },
    ],
    models: () => [
      model('b/ep-0', { queueDepth: 3, kvCacheUsage: 0.5, health: 'stale', gpuUuids: ['GPU-b'] }),
      model('a/ep-1', { running: 2, ttftP95Ms: 80, itlP95Ms: 9, prefixCacheHitRate: 0.25 }),
      model('a/ep-0', { queueDepth: 1 }),
    ],
    gpus: () => [
      gpu('a', 'GPU-a0', {
        smUtilization: 0.7,
        temperatureC: 61,
        xidLast: 79,
        healthy: false,
        quarantineReason: 'xid',
      }),
      gpu('a', 'GPU-a1', { index: 1 }),
      gpu('b', 'GPU-b', { healthy: false, quarantineReason: 'temperature', eccVolatileUncorrected: 2 }),
    ],
    quarantined: () => [{ uuid: 'GPU-a0', node: 'a', reason: 'xid', detail: 'critical XID 79', since: 7 }],
    inFlight: () => new Map([['a/ep-1', 4]]),
    endpointGpus: new Map([
      ['a/ep-0', ['GPU-a0']],
      ['a/ep-1', ['GPU-a1']],
    ]),
  });
  assert.equal(snap.at, 42);
  assert.deepEqual(
    snap.endpoints.map((e) => [e.endpointId, e.inFlight, e.gpuUuids]),
    [
      ['a/ep-0', 0, ['GPU-a0']],
      ['a/ep-1', 4, ['GPU-a1']],
      ['b/ep-0', 0, ['GPU-b']],
    ],
  );
  const ep1 = snap.endpoints[1]!;
  assert.equal(ep1.ttftP95Ms, 80);
  assert.equal(ep1.prefixCacheHitRate, 0.25);
  assert.equal('queueDepth' in ep1, false, 'an absent signal stays absent');
  // This node's quarantine gives detail and since; a peer's record its reason only.
  assert.deepEqual(snap.gpus[0]!.quarantine, { reason: 'xid', detail: 'critical XID 79', since: 7 });
  assert.deepEqual(snap.gpus[0]!.endpoints, ['a/ep-0']);
  assert.deepEqual(snap.gpus[2]!.quarantine, { reason: 'temperature' });
  assert.equal(snap.gpus[2]!.eccUncorrected, 2);
  assert.equal(snap.gpus[1]!.quarantine, undefined);
  // Node b is known only from state: listed, status unknown, after this node.
  assert.deepEqual(
    snap.nodes.map((n) => [n.id, n.status, n.self, n.endpoints, n.gpus]),
    [
      ['a', 'healthy', true, 2, 2],
      ['b', 'unknown', false, 1, 1],
    ],
  );
  assert.deepEqual(snap.totals, {
    nodes: 2,
    gpus: 3,
    quarantined: 2,
    endpoints: 3,
    healthyEndpoints: 2,
    inFlight: 4,
    queued: 4,
  });
});
