/**
 * Applies a `GpuStateDelta` from an external reporter to the `GpuStore`: a merge onto the GPU's
 * record (only the fields set change), a new record when the delta names its `source`, or a
 * removal. Invalid deltas throw `MeshError`s; the caller turns them into failed acks.
 */
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { GpuState } from '../../core/gpu.ts';
import { MeshError } from '../../core/errors.ts';
import type { GpuStateDelta } from '../../gen/infermesh/state/v1/state_pb.js';
import { assignDefined, checkFraction, checkNonNegative } from './delta-checks.ts';
import { gbToBytes, isGpuSource } from './gpu-state-proto.ts';
import type { GpuStore } from './gpu-store.ts';

/** The GPU a delta was applied to. */
export interface AppliedGpuDelta {
  node: string;
  uuid: string;
  action: 'created' | 'updated' | 'removed';
}

function checkValues(d: GpuStateDelta): void {
  checkFraction('sm_utilization', d.smUtilization);
  checkFraction('memory_utilization', d.memoryUtilization);
  for (const [field, value] of [
    ['vram_used_gb', d.vramUsedGb],
    ['vram_total_gb', d.vramTotalGb],
    ['memory_used_bytes', d.memoryUsedBytes],
    ['memory_total_bytes', d.memoryTotalBytes],
    ['power_watts', d.powerWatts],
    ['power_limit_watts', d.powerLimitWatts],
    ['ecc_volatile_uncorrected', d.eccVolatileUncorrected],
    ['ecc_volatile_corrected', d.eccVolatileCorrected],
  ] as const)
    checkNonNegative(field, value);
  // Temperatures may be below zero in a cold aisle sensor's world; only nonsense is refused.
  if (d.temperatureC !== undefined && !(Number.isFinite(d.temperatureC) && d.temperatureC < 1000))
    throw new MeshError('invalid_request', `temperature_c must be a finite number, got ${d.temperatureC}`);
  if (d.source !== undefined && !isGpuSource(d.source))
    throw new MeshError('invalid_request', `unknown GPU source "${d.source}"`, { param: 'source' });
}

/** Reasons from the list when given, else from the original's `throttled` flag. */
function reasonsOf(d: GpuStateDelta): string[] | undefined {
  if (d.throttleReasons.length > 0) return [...d.throttleReasons];
  if (d.throttled === undefined) return undefined;
  return d.throttled ? ['unknown'] : [];
}

/** An empty string clears an optional text field; unset leaves it alone. */
const text = (value: string | undefined): string | null | undefined =>
  value === undefined ? undefined : value === '' ? null : value;

function merge(target: GpuState, d: GpuStateDelta): void {
  assignDefined(target, {
    index: d.index,
    name: d.name,
    smUtilization: d.smUtilization,
    memoryUtilization: d.memoryUtilization,
    memoryUsedBytes: d.memoryUsedBytes ?? gbToBytes(d.vramUsedGb),
    memoryTotalBytes: d.memoryTotalBytes ?? gbToBytes(d.vramTotalGb),
    temperatureC: d.temperatureC,
    powerWatts: d.powerWatts,
    powerLimitWatts: d.powerLimitWatts,
    smClockMHz: d.smClockMhz,
    throttleReasons: reasonsOf(d),
    eccVolatileUncorrected:
      d.eccVolatileUncorrected ?? (d.eccErrors === undefined ? undefined : +d.eccErrors),
    eccVolatileCorrected: d.eccVolatileCorrected,
    xidLast: d.xidLast,
    migMode: d.migMode,
    healthy: d.healthy,
    source: d.source as GpuState['source'] | undefined,
  });
  for (const key of ['migProfile', 'parentUuid', 'quarantineReason'] as const) {
    const value = text(d[key]);
    if (value === null) delete target[key];
    else if (value !== undefined) target[key] = value;
  }
}

/** Applies one delta; throws `invalid_request` / `not_found` for one that cannot be applied. */
export function applyGpuStateDelta(store: GpuStore, delta: GpuStateDelta, now: number): AppliedGpuDelta {
  const { gpuUuid: uuid, node } = delta;
  if (!uuid || !node) throw new MeshError('invalid_request', 'gpu_uuid and node are required');
  const existing = store.get(node, uuid);
  if (delta.remove) {
    if (!existing) throw new MeshError('not_found', `no GPU state for ${node}/${uuid}`);
    store.remove(node, uuid);
    return { node, uuid, action: 'removed' };
  }
  checkValues(delta);
  const updatedAt = delta.timestamp ? timestampMs(delta.timestamp) : now;
  if (!existing && delta.source === undefined) {
    throw new MeshError(
      'not_found',
      `no GPU state for ${node}/${uuid}; to create one the delta needs source`,
    );
  }
  const next: GpuState = existing
    ? { ...existing, updatedAt }
    : { uuid, node, index: 0, name: '', healthy: true, updatedAt, source: 'sim' };
  merge(next, delta);
  store.upsert(next);
  return { node, uuid, action: existing ? 'updated' : 'created' };
}
