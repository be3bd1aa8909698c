import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GpuState } from '../core/gpu.ts';
import { modelState } from '../core/testing/model-state.ts';
import { createGpuStore } from '../signal/state/gpu-store.ts';
import { createStateStore } from '../signal/state/state-store.ts';
import { createScoringEngine } from './engine.ts';
import { syncEngineWithStore } from './store-sync.ts';

const model = (endpointId: string, gpuUuids: string[]) => modelState(endpointId, { node: 'gpu-a', gpuUuids });
const gpu = (uuid: string, extra: Partial<GpuState> = {}): GpuState => ({
  uuid,
  index: 0,
  name: 'H100',
  node: 'gpu-a',
  healthy: true,
  memoryTotalBytes: 80e9,
  memoryUsedBytes: 10e9,
  updatedAt: 0,
  source: 'sim',
  ...extra,
});

test('endpoint views follow the GPU store: a quarantined GPU takes its endpoint out, a release brings it back', () => {
  const store = createStateStore();
  const gpus = createGpuStore();
  const engine = createScoringEngine({ random: () => 0 });
  gpus.upsert(gpu('GPU-1'));
  store.upsert(model('a', ['GPU-1']));
  const stop = syncEngineWithStore(engine, store, gpus);
  store.upsert(model('b', ['GPU-2']));
  gpus.upsert(gpu('GPU-2'));
  assert.equal(engine.fleet.get('a', 'm')?.gpu?.uuid, 'GPU-1');
  assert.equal(engine.fleet.get('b', 'm')?.gpu?.uuid, 'GPU-2');

  gpus.upsert(gpu('GPU-1', { healthy: false, quarantineReason: 'temperature' }));
  for (let i = 0; i < 5; i++) assert.equal(engine.decide({ model: 'm' }).target.endpointId, 'b');
  gpus.upsert(gpu('GPU-1'));
  assert.equal(engine.fleet.get('a', 'm')?.gpu?.healthy, true);

  gpus.remove('gpu-a', 'GPU-2');
  assert.equal(engine.fleet.get('b', 'm')?.gpu, undefined);
  stop();
  gpus.upsert(gpu('GPU-1', { healthy: false }));
  assert.equal(engine.fleet.get('a', 'm')?.gpu?.healthy, true, 'no longer following after stop');
});

test('an endpoint on several GPUs is as healthy as its worst GPU and as roomy as its fullest', () => {
  const store = createStateStore();
  const gpus = createGpuStore();
  const engine = createScoringEngine();
  syncEngineWithStore(engine, store, gpus);
  gpus.upsert(gpu('GPU-1', { memoryUsedBytes: 10e9 }));
  gpus.upsert(gpu('GPU-2', { memoryUsedBytes: 70e9 }));
  store.upsert(model('tp', ['GPU-1', 'GPU-2']));
  assert.equal(engine.fleet.get('tp', 'm')?.gpu?.uuid, 'GPU-2');
  gpus.upsert(gpu('GPU-1', { healthy: false }));
  assert.equal(engine.fleet.get('tp', 'm')?.gpu?.uuid, 'GPU-1');
});
