/**
 * The NVML source: reads every GPU and MIG instance through libnvidia-ml.so.1. Units are converted
 * once here (mW → W, percent → 0..1, bytes stay bytes). A field whose call fails is absent; a
 * GPU whose calls say `GPU is lost` is reported unhealthy. nvmlInit_v2 failing is a MeshError
 * (`unavailable`) carrying nvmlErrorString's text, so meshd can fall back to another source.
 */
import { MeshError } from '../../../core/errors.ts';
import type { GpuState } from '../../../core/gpu.ts';
import { dropUndefined } from '../drop-undefined.ts';
import { decodeThrottleReasons } from '../throttle-reasons.ts';
import type { GpuSourceContext, GpuTelemetrySource } from '../types.ts';
import {
  loadNvml,
  NVML_ERROR_GPU_IS_LOST,
  NVML_ERROR_NOT_SUPPORTED,
  NVML_MEMORY_V2_VERSION,
  NVML_SUCCESS,
} from './bindings.ts';
import { migProfileName } from './mig-profile.ts';

const NVML_TEMPERATURE_GPU = 0;
const NVML_CLOCK_SM = 1;
const NVML_MEMORY_ERROR_TYPE_CORRECTED = 0;
const NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1;
const NVML_VOLATILE_ECC = 0;

export interface NvmlSourceOptions extends GpuSourceContext {
  /** Library to load; default `libnvidia-ml.so.1` (found through the dynamic loader's path). */
  libraryPath?: string;
}

/** The NVML source plus the library facts the proof script reports. */
export interface NvmlSource extends GpuTelemetrySource {
  /** Which memory call the driver offered: `v2` splits the driver reservation out of `used`. */
  readonly memoryApi: 'v2' | 'v1';
}

const num = (v: number | bigint | undefined) => (v === undefined ? undefined : Number(v));

/** Loads NVML and initialises it. Throws `unavailable` with NVML's own error text when it cannot. */
export async function createNvmlSource(options: NvmlSourceOptions): Promise<NvmlSource> {
  const nvml = await loadNvml(options.libraryPath);
  const ret = nvml.init();
  if (ret !== NVML_SUCCESS) {
    const text = nvml.errorString(ret);
    nvml.unload();
    throw new MeshError('unavailable', `NVML: nvmlInit_v2 failed: ${text} (${ret})`, { nvmlReturn: ret });
  }
  const now = options.now ?? Date.now;
  let closed = false;
  let memoryApi: 'v2' | 'v1' = nvml.getMemoryV2 ? 'v2' : 'v1';

  const readDevice = (dev: unknown, index: number, parent?: GpuState): GpuState => {
    let lost = false;
    // Every getter goes through here: success gives the value, `GPU is lost` marks the GPU,
    // anything else (not supported, no permission) leaves the field absent.
    const ok = (r: number) => {
      if (r === NVML_ERROR_GPU_IS_LOST) lost = true;
      return r === NVML_SUCCESS;
    };
    const u32 = (call: (out: [number]) => number) => {
      const out: [number] = [0];
      return ok(call(out)) ? out[0] : undefined;
    };
    const u64 = (call: (out: [number | bigint]) => number) => {
      const out: [number | bigint] = [0];
      return ok(call(out)) ? BigInt(out[0]) : undefined;
    };

    const uuid = nvml.getUuid(dev);
    const name = nvml.getName(dev);
    ok(uuid.ret);
    ok(name.ret);
    const state: GpuState = {
      uuid: uuid.value ?? `nvml-index-${index}`,
      index,
      name: name.value ?? '',
      node: options.node,
      healthy: true,
      updatedAt: now(),
      source: 'nvml',
    };

    const util: Record<string, number> = {};
    if (ok(nvml.getUtilization(dev, util))) {
      state.smUtilization = (util.gpu ?? 0) / 100;
      state.memoryUtilization = (util.memory ?? 0) / 100;
    }
    readMemory(dev, state, ok);

    state.temperatureC = u32((o) => nvml.getTemperature(dev, NVML_TEMPERATURE_GPU, o));
    const mw = u32((o) => nvml.getPowerUsage(dev, o));
    if (mw !== undefined) state.powerWatts = mw / 1000;
    const limit = u32((o) => nvml.getEnforcedPowerLimit(dev, o));
    if (limit !== undefined) state.powerLimitWatts = limit / 1000;
    state.smClockMHz = u32((o) => nvml.getClockInfo(dev, NVML_CLOCK_SM, o));
    const reasons = nvml.getClockReasons ? u64((o) => nvml.getClockReasons!(dev, o)) : undefined;
    if (reasons !== undefined) state.throttleReasons = decodeThrottleReasons(reasons);
    state.eccVolatileUncorrected = num(
      u64((o) => nvml.getTotalEccErrors(dev, NVML_MEMORY_ERROR_TYPE_UNCORRECTED, NVML_VOLATILE_ECC, o)),
    );
    state.eccVolatileCorrected = num(
      u64((o) => nvml.getTotalEccErrors(dev, NVML_MEMORY_ERROR_TYPE_CORRECTED, NVML_VOLATILE_ECC, o)),
    );

    if (parent) {
      state.parentUuid = parent.uuid;
      state.migMode = true;
      const attrs: Record<string, number | bigint> = {};
      if (nvml.getAttributes && ok(nvml.getAttributes(dev, attrs))) {
        state.migProfile = migProfileName(
          Number(attrs.gpuInstanceSliceCount ?? 0),
          Number(attrs.memorySizeMB ?? 0),
          parent.memoryTotalBytes,
        );
      }
    } else if (nvml.getMigMode) {
      const current: [number] = [0];
      const pending: [number] = [0];
      const r = nvml.getMigMode(dev, current, pending);
      if (ok(r)) state.migMode = current[0] === 1;
      else if (r === NVML_ERROR_NOT_SUPPORTED) state.migMode = false;
    }
    if (lost) state.healthy = false;
    return dropUndefined(state);
  };

  const readMemory = (dev: unknown, state: GpuState, ok: (r: number) => boolean) => {
    if (memoryApi === 'v2' && nvml.getMemoryV2) {
      const m: Record<string, number | bigint> = {
        version: NVML_MEMORY_V2_VERSION,
        total: 0,
        reserved: 0,
        free: 0,
        used: 0,
      };
      const r = nvml.getMemoryV2(dev, m);
      if (ok(r)) {
        state.memoryTotalBytes = Number(m.total);
        state.memoryUsedBytes = Number(m.used);
        return;
      }
      // A driver that exports _v2 but refuses it (version mismatch) gets v1 from now on.
      if (r !== NVML_ERROR_GPU_IS_LOST && r !== NVML_ERROR_NOT_SUPPORTED) memoryApi = 'v1';
    }
    const m: Record<string, number | bigint> = {};
    if (ok(nvml.getMemoryV1(dev, m))) {
      state.memoryTotalBytes = Number(m.total);
      state.memoryUsedBytes = Number(m.used);
    }
  };

  const readMig = (dev: unknown, parent: GpuState): GpuState[] => {
    if (!parent.migMode || !nvml.getMaxMigDeviceCount || !nvml.getMigDeviceHandleByIndex) return [];
    const max: [number] = [0];
    if (nvml.getMaxMigDeviceCount(dev, max) !== NVML_SUCCESS) return [];
    const out: GpuState[] = [];
    for (let i = 0; i < max[0]; i++) {
      const handle: [unknown] = [null];
      // Empty slots answer NOT_FOUND; only filled slots are instances.
      if (nvml.getMigDeviceHandleByIndex(dev, i, handle) !== NVML_SUCCESS) continue;
      out.push(readDevice(handle[0], parent.index, parent));
    }
    return out;
  };

  const readAll = (): GpuState[] => {
    const count: [number] = [0];
    const r = nvml.getCount(count);
    if (r !== NVML_SUCCESS)
      throw new MeshError(
        'unavailable',
        `NVML: nvmlDeviceGetCount_v2 failed: ${nvml.errorString(r)} (${r})`,
        {
          nvmlReturn: r,
        },
      );
    const states: GpuState[] = [];
    for (let i = 0; i < count[0]; i++) {
      const handle: [unknown] = [null];
      const h = nvml.getHandleByIndex(i, handle);
      if (h !== NVML_SUCCESS) {
        // One unreadable GPU must not hide the others: report it lost, keep going.
        states.push({
          uuid: `nvml-index-${i}`,
          index: i,
          name: `unreadable: ${nvml.errorString(h)}`,
          node: options.node,
          healthy: false,
          updatedAt: now(),
          source: 'nvml',
        });
        continue;
      }
      const gpu = readDevice(handle[0], i);
      states.push(gpu, ...readMig(handle[0], gpu));
    }
    return states;
  };

  return {
    kind: 'nvml',
    get memoryApi() {
      return memoryApi;
    },
    read() {
      if (closed) return Promise.reject(new MeshError('unavailable', 'NVML: source is closed'));
      try {
        return Promise.resolve(readAll());
      } catch (err) {
        return Promise.reject(MeshError.from(err, 'unavailable'));
      }
    },
    close() {
      if (!closed) {
        closed = true;
        nvml.shutdown();
        nvml.unload();
      }
      return Promise.resolve();
    },
  };
}
