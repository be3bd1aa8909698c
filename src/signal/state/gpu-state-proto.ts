/**
 * Conversion between the domain `GpuState` (`src/core/gpu.ts`) and its wire form
 * `infermesh.state.v1.GpuState`, in one place so the StatePlane service and remote subscribers
 * agree field by field. The original's summary fields (`vram_*_gb`, `ecc_errors`, `throttled`)
 * are derived on the way out and ignored on the way in, where the exact fields win.
 */
import { create } from '@bufbuild/protobuf';
import { timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import { GPU_SOURCES, type GpuSource, type GpuState } from '../../core/gpu.ts';
import { MeshError } from '../../core/errors.ts';
import { GpuStateSchema, type GpuState as PbGpuState } from '../../gen/infermesh/state/v1/state_pb.js';

const GB = 1e9;

/** True when a reason other than idling lowers the clocks: the original's `throttled`. */
export const isThrottled = (reasons: readonly string[]): boolean => reasons.some((r) => r !== 'gpu_idle');

/** Whether `value` names a GPU telemetry source. */
export function isGpuSource(value: string): value is GpuSource {
  return (GPU_SOURCES as readonly string[]).includes(value);
}

/** Domain → wire. Absent readings stay absent (proto3 `optional`). */
export function gpuStateToProto(state: GpuState): PbGpuState {
  return create(GpuStateSchema, {
    gpuUuid: state.uuid,
    node: state.node,
    migProfile: state.migProfile ?? '',
    smUtilization: state.smUtilization,
    memoryUtilization: state.memoryUtilization,
    vramUsedGb: state.memoryUsedBytes === undefined ? undefined : state.memoryUsedBytes / GB,
    vramTotalGb: state.memoryTotalBytes === undefined ? undefined : state.memoryTotalBytes / GB,
    temperatureC: state.temperatureC,
    powerWatts: state.powerWatts,
    eccErrors: state.eccVolatileUncorrected === undefined ? undefined : state.eccVolatileUncorrected > 0,
    throttled: state.throttleReasons === undefined ? undefined : isThrottled(state.throttleReasons),
    lastUpdated: timestampFromMs(state.updatedAt),
    index: state.index,
    name: state.name,
    memoryUsedBytes: state.memoryUsedBytes,
    memoryTotalBytes: state.memoryTotalBytes,
    powerLimitWatts: state.powerLimitWatts,
    smClockMhz: state.smClockMHz,
    throttleReasons: state.throttleReasons ? [...state.throttleReasons] : [],
    eccVolatileUncorrected: state.eccVolatileUncorrected,
    eccVolatileCorrected: state.eccVolatileCorrected,
    xidLast: state.xidLast,
    migMode: state.migMode,
    parentUuid: state.parentUuid ?? '',
    healthy: state.healthy,
    quarantineReason: state.quarantineReason ?? '',
    source: state.source,
  });
}

/**
 * Wire → domain. Throws `invalid_request` without `gpu_uuid` and `node` (the record's key) or with
 * a source we do not know.
 */
export function gpuStateFromProto(pb: PbGpuState): GpuState {
  if (!pb.gpuUuid || !pb.node) throw new MeshError('invalid_request', 'GPU state needs gpu_uuid and node');
  if (!isGpuSource(pb.source)) {
    throw new MeshError('invalid_request', `unknown GPU source "${pb.source}" for ${pb.node}/${pb.gpuUuid}`);
  }
  const state: GpuState = {
    uuid: pb.gpuUuid,
    index: pb.index,
    name: pb.name,
    node: pb.node,
    healthy: pb.healthy,
    updatedAt: pb.lastUpdated ? timestampMs(pb.lastUpdated) : 0,
    source: pb.source,
  };
  // Reasons are known when the list is non-empty or `throttled` says they were read (as none).
  const reasonsKnown = pb.throttleReasons.length > 0 || pb.throttled !== undefined;
  const optional = {
    smUtilization: pb.smUtilization,
    memoryUtilization: pb.memoryUtilization,
    memoryUsedBytes: pb.memoryUsedBytes ?? gbToBytes(pb.vramUsedGb),
    memoryTotalBytes: pb.memoryTotalBytes ?? gbToBytes(pb.vramTotalGb),
    temperatureC: pb.temperatureC,
    powerWatts: pb.powerWatts,
    powerLimitWatts: pb.powerLimitWatts,
    smClockMHz: pb.smClockMhz,
    throttleReasons: reasonsKnown ? [...pb.throttleReasons] : undefined,
    eccVolatileUncorrected:
      pb.eccVolatileUncorrected ?? (pb.eccErrors === undefined ? undefined : +pb.eccErrors),
    eccVolatileCorrected: pb.eccVolatileCorrected,
    xidLast: pb.xidLast,
    migMode: pb.migMode,
    migProfile: pb.migProfile || undefined,
    parentUuid: pb.parentUuid || undefined,
    quarantineReason: pb.quarantineReason || undefined,
  } satisfies Partial<GpuState>;
  // Copy only what is present, so `deepEqual` with the original record holds.
  for (const [key, value] of Object.entries(optional)) {
    if (value !== undefined) Object.assign(state, { [key]: value });
  }
  return state;
}

/** The original's GB fields → bytes, for peers that only fill those. */
export const gbToBytes = (gb: number | undefined): number | undefined =>
  gb === undefined ? undefined : Math.round(gb * GB);
