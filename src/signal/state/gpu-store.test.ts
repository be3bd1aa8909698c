import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GpuState } from '../../core/gpu.ts';
import { createGpuStore, isGpuHealthy, type GpuStateEvent } from './gpu-store.ts';

const gpu = (node: string, index: number, extra: Partial<GpuState> = {}): GpuState => ({
  uuid: `GPU-${node}-${index}`,
  index,
  name: 'H100',
  node,
  healthy: true,
  updatedAt: 1,
  source: 'sim',
  ...extra,
});

test('upsert, get, list (sorted, filtered), remove and removeNode notify watchers', () => {
  const store = createGpuStore();
  const events: string[] = [];
  const off = store.watch((e: GpuStateEvent) => events.push(`${e.type}:${e.state.uuid}`));
  store.upsert(gpu('b', 0));
  store.upsert(gpu('a', 1, { eccVolatileUncorrected: 1 }));
  store.upsert(gpu('a', 0));
  assert.deepEqual(
    store.list().map((g) => g.uuid),
    ['GPU-a-0', 'GPU-a-1', 'GPU-b-0'],
  );
  assert.deepEqual(
    store.list({ node: 'a', healthyOnly: true }).map((g) => g.uuid),
    ['GPU-a-0'],
  );
  assert.equal(store.get('a', 'GPU-a-1')?.eccVolatileUncorrected, 1);
  assert.ok(Object.isFrozen(store.get('a', 'GPU-a-1')));
  assert.equal(store.remove('a', 'GPU-a-1'), true);
  assert.equal(store.remove('a', 'GPU-a-1'), false);
  store.removeNode('a');
  off();
  store.upsert(gpu('c', 0));
  assert.deepEqual(events, [
    'upsert:GPU-b-0',
    'upsert:GPU-a-1',
    'upsert:GPU-a-0',
    'remove:GPU-a-1',
    'remove:GPU-a-0',
  ]);
});

test('healthy means not quarantined, no uncorrected ECC and no hardware slowdown', () => {
  assert.equal(isGpuHealthy(gpu('a', 0, { throttleReasons: ['sw_power_cap', 'gpu_idle'] })), true);
  assert.equal(isGpuHealthy(gpu('a', 0, { throttleReasons: ['hw_thermal_slowdown'] })), false);
  assert.equal(isGpuHealthy(gpu('a', 0, { healthy: false })), false);
  assert.equal(isGpuHealthy(gpu('a', 0, { eccVolatileUncorrected: 3 })), false);
});
