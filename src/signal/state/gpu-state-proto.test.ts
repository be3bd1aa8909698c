import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, fromBinary, toBinary, toJson } from '@bufbuild/protobuf';
import type { GpuState } from '../../core/gpu.ts';
import { GpuStateSchema } from '../../gen/infermesh/state/v1/state_pb.js';
import { gpuStateFromProto, gpuStateToProto } from './gpu-state-proto.ts';

const full: GpuState = {
  uuid: 'MIG-1a2b',
  index: 3,
  name: 'NVIDIA H100 80GB HBM3',
  node: 'gpu-1',
  smUtilization: 0.73,
  memoryUtilization: 0.41,
  memoryUsedBytes: 42_949_672_960,
  memoryTotalBytes: 85_899_345_920,
  temperatureC: 61,
  powerWatts: 412.5,
  powerLimitWatts: 700,
  smClockMHz: 1980,
  throttleReasons: ['sw_power_cap'],
  eccVolatileUncorrected: 0,
  eccVolatileCorrected: 12,
  xidLast: 79,
  migMode: true,
  migProfile: '1g.10gb',
  parentUuid: 'GPU-9f8e',
  healthy: false,
  quarantineReason: 'xid 79',
  updatedAt: 1_764_000_000_123,
  source: 'nvml',
};

const roundTrip = (s: GpuState) =>
  gpuStateFromProto(fromBinary(GpuStateSchema, toBinary(GpuStateSchema, gpuStateToProto(s))));

test('every GpuState field survives domain → binary wire → domain', () => {
  assert.deepEqual(roundTrip(full), full);
});

test('absent readings stay absent; an empty reason list stays known', () => {
  const sparse: GpuState = {
    uuid: 'GPU-1',
    index: 0,
    name: '',
    node: 'n',
    healthy: true,
    updatedAt: 5,
    source: 'sim',
  };
  const back = roundTrip(sparse);
  assert.deepEqual(back, sparse);
  assert.ok(!('throttleReasons' in back) && !('eccVolatileUncorrected' in back));
  assert.deepEqual(roundTrip({ ...sparse, throttleReasons: [] }).throttleReasons, []);
  assert.deepEqual(roundTrip({ ...sparse, throttleReasons: ['gpu_idle'] }).throttleReasons, ['gpu_idle']);
});

test("the original's summary fields are derived for its readers", () => {
  const json = toJson(GpuStateSchema, gpuStateToProto(full)) as Record<string, unknown>;
  assert.equal(json.vramUsedGb, 42.94967296);
  assert.equal(json.eccErrors, false);
  assert.equal(json.throttled, true);
  assert.equal(json.lastUpdated, '2025-11-24T16:00:00.123Z');
  const idle = gpuStateToProto({ ...full, throttleReasons: ['gpu_idle'], eccVolatileUncorrected: 2 });
  assert.deepEqual([idle.throttled, idle.eccErrors], [false, true]);
});

test('a peer that only fills the original fields is read; bad identity or source is refused', () => {
  const old = create(GpuStateSchema, {
    gpuUuid: 'GPU-x',
    node: 'n',
    vramUsedGb: 1.5,
    eccErrors: true,
    throttled: false,
    healthy: true,
    source: 'dcgm',
  });
  const back = gpuStateFromProto(old);
  assert.deepEqual(
    [back.memoryUsedBytes, back.eccVolatileUncorrected, back.throttleReasons],
    [1_500_000_000, 1, []],
  );
  assert.throws(() => gpuStateFromProto(create(GpuStateSchema, { node: 'n' })), { code: 'invalid_request' });
  assert.throws(
    () => gpuStateFromProto(create(GpuStateSchema, { gpuUuid: 'g', node: 'n', source: 'x' })),
    /unknown GPU source/,
  );
});
