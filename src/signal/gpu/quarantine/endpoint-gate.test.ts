import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GpuState } from '../../../core/gpu.ts';
import type { ModelState } from '../../../core/types.ts';
import { createGpuStore } from '../../state/gpu-store.ts';
import { createEndpointGpuGate } from './endpoint-gate.ts';

const gpu = (uuid: string, over: Partial<GpuState> = {}): GpuState => ({
  uuid,
  index: 0,
  name: 'H100',
  node: 'n1',
  healthy: true,
  updatedAt: 0,
  source: 'sim',
  ...over,
});
const endpoint = (id: string): ModelState =>
  ({ endpointId: `n1/${id}`, node: 'n1', model: 'm' }) as ModelState;

test('an endpoint is out when one of its GPUs, or a MIG instance’s parent, is quarantined or lost', () => {
  const gpus = createGpuStore();
  gpus.upsert(gpu('GPU-a'));
  gpus.upsert(gpu('GPU-b', { healthy: false, quarantineReason: 'temperature: 95 C' }));
  gpus.upsert(gpu('MIG-1', { parentUuid: 'GPU-b' }));
  const gate = createEndpointGpuGate(
    gpus,
    new Map([
      ['n1/a', ['GPU-a']],
      ['n1/b', ['GPU-a', 'GPU-b']],
      ['n1/mig', ['MIG-1']],
    ]),
  );
  assert.equal(gate(endpoint('a')), false);
  assert.equal(gate(endpoint('b')), true);
  assert.equal(gate(endpoint('mig')), true);
  assert.equal(gate(endpoint('unmapped')), false, 'no GPU mapping: never gated');
  assert.equal(gate({ ...endpoint('x'), gpuUuids: ['GPU-b'] }), true, 'gpuUuids on the state win');
  assert.equal(
    gate({ ...endpoint('x'), gpuUuids: ['GPU-unknown'] }),
    false,
    'an unknown GPU is not evidence',
  );
});

test('on a gpu node its own quarantine registry wins over the stored GPU state', () => {
  const gpus = createGpuStore();
  // A reporter pushed the GPU back as healthy, but it was never released.
  gpus.upsert(gpu('GPU-a'));
  const held = new Set(['GPU-a']);
  const gate = createEndpointGpuGate(gpus, new Map(), {
    node: 'n1',
    isQuarantined: (uuid) => held.has(uuid),
  });
  assert.equal(gate({ ...endpoint('a'), gpuUuids: ['GPU-a'] }), true);
  assert.equal(
    gate({ ...endpoint('a'), node: 'n2', gpuUuids: ['GPU-a'] }),
    false,
    'another node’s GPU with the same uuid is judged by its own state',
  );
  held.delete('GPU-a');
  assert.equal(gate({ ...endpoint('a'), gpuUuids: ['GPU-a'] }), false);
});
