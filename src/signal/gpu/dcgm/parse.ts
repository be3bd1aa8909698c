/**
 * dcgm-exporter's `/metrics` → `GpuState`, through the shared Prometheus parser. Series are keyed
 * by `UUID` (or the old-namespace `uuid`) plus `GPU_I_ID` under MIG: the exporter repeats
 * device-level fields for every GPU instance and gives an instance no UUID of its own, so an
 * instance's record is named `<GPU UUID>/gi<GPU_I_ID>` with `parentUuid` the GPU's UUID.
 * Pod labels (`pod`, `namespace`, `container`, present, empty or absent) are ignored.
 */
import type { GpuState } from '../../../core/gpu.ts';
import { parsePrometheus, type Sample } from '../../runtime/prometheus/index.ts';
import { decodeThrottleReasons } from '../throttle-reasons.ts';

const MIB = 1024 * 1024;

type Setter = (s: GpuState, v: number, acc: Accumulator) => void;
interface Accumulator {
  fbUsed?: number;
  fbFree?: number;
  fbReserved?: number;
}

/** DCGM field → how it lands in the record (units per etc/default-counters.csv). */
const FIELDS: Record<string, Setter> = {
  DCGM_FI_DEV_GPU_UTIL: (s, v) => (s.smUtilization = v / 100),
  // Under MIG, GPU_UTIL is not supported; the profiling ratio is the instance's busy fraction.
  DCGM_FI_PROF_GR_ENGINE_ACTIVE: (s, v) => (s.smUtilization ??= v),
  DCGM_FI_DEV_MEM_COPY_UTIL: (s, v) => (s.memoryUtilization = v / 100),
  DCGM_FI_DEV_FB_USED: (_s, v, a) => (a.fbUsed = v),
  DCGM_FI_DEV_FB_FREE: (_s, v, a) => (a.fbFree = v),
  DCGM_FI_DEV_FB_RESERVED: (_s, v, a) => (a.fbReserved = v),
  DCGM_FI_DEV_GPU_TEMP: (s, v) => (s.temperatureC = v),
  DCGM_FI_DEV_POWER_USAGE: (s, v) => (s.powerWatts = v),
  DCGM_FI_DEV_POWER_MGMT_LIMIT: (s, v) => (s.powerLimitWatts = v),
  DCGM_FI_DEV_SM_CLOCK: (s, v) => (s.smClockMHz = v),
  DCGM_FI_DEV_CLOCK_THROTTLE_REASONS: (s, v) =>
    (s.throttleReasons = decodeThrottleReasons(BigInt(Math.trunc(v)))),
  DCGM_FI_DEV_CLOCKS_EVENT_REASONS: (s, v) =>
    (s.throttleReasons = decodeThrottleReasons(BigInt(Math.trunc(v)))),
  DCGM_FI_DEV_ECC_DBE_VOL_TOTAL: (s, v) => (s.eccVolatileUncorrected = v),
  DCGM_FI_DEV_ECC_SBE_VOL_TOTAL: (s, v) => (s.eccVolatileCorrected = v),
  // "Value of the last XID error encountered": 0 means none.
  DCGM_FI_DEV_XID_ERRORS: (s, v) => {
    if (v > 0) s.xidLast = v;
  },
};

function recordFor(sample: Sample, ctx: { node: string; now: number }): GpuState | undefined {
  const l = sample.labels;
  const gpuUuid = l.UUID || l.uuid;
  const index = Number(l.gpu);
  if (!gpuUuid || !Number.isInteger(index)) return undefined;
  const gi = l.GPU_I_ID;
  const state: GpuState = {
    uuid: gi ? `${gpuUuid}/gi${gi}` : gpuUuid,
    index,
    name: l.modelName ?? l.DCGM_FI_DEV_NAME ?? '',
    node: ctx.node,
    healthy: true,
    updatedAt: ctx.now,
    source: 'dcgm',
  };
  if (gi) {
    state.parentUuid = gpuUuid;
    state.migMode = true;
    if (l.GPU_I_PROFILE) state.migProfile = l.GPU_I_PROFILE;
  }
  return state;
}

/** Parses a scrape body. Throws the Prometheus parser's PromParseError on a malformed page. */
export function parseDcgmMetrics(text: string, ctx: { node: string; now: number }): GpuState[] {
  const exposition = parsePrometheus(text);
  const records = new Map<string, { state: GpuState; acc: Accumulator }>();
  for (const family of exposition.families) {
    const set = FIELDS[family.name];
    if (!set) continue;
    for (const sample of family.samples) {
      if (!Number.isFinite(sample.value)) continue;
      const fresh = recordFor(sample, ctx);
      if (!fresh) continue;
      let entry = records.get(fresh.uuid);
      if (!entry) records.set(fresh.uuid, (entry = { state: fresh, acc: {} }));
      set(entry.state, sample.value, entry.acc);
    }
  }
  const out: GpuState[] = [];
  for (const { state, acc } of records.values()) {
    if (acc.fbUsed !== undefined) state.memoryUsedBytes = acc.fbUsed * MIB;
    if (acc.fbUsed !== undefined && acc.fbFree !== undefined)
      state.memoryTotalBytes = (acc.fbUsed + acc.fbFree + (acc.fbReserved ?? 0)) * MIB;
    out.push(state);
  }
  // A GPU whose instances are listed is in MIG mode.
  for (const s of out)
    if (s.parentUuid) {
      const parent = records.get(s.parentUuid);
      if (parent) parent.state.migMode = true;
    }
  return out.sort((a, b) => a.index - b.index || a.uuid.localeCompare(b.uuid));
}
