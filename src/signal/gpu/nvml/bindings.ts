/**
 * The NVML C API as koffi functions on `libnvidia-ml.so.1`. Only the calls the adapter uses are
 * bound; calls that old drivers lack (`nvmlDeviceGetMemoryInfo_v2`, the clocks *event* reasons
 * name, `nvmlDeviceGetAttributes_v2`) are optional and fall back to their older names.
 */
import { MeshError } from '../../../core/errors.ts';

/** `nvmlReturn_t` values the adapter treats specially (nvml.h). */
export const NVML_SUCCESS = 0;
export const NVML_ERROR_NOT_SUPPORTED = 3;
export const NVML_ERROR_GPU_IS_LOST = 15;

/** `nvmlMemory_v2_t.version`: sizeof(struct) | 2 << 24 (= 33554472, as pynvml sends). */
export const NVML_MEMORY_V2_VERSION = 40 | (2 << 24);
/** NVML_DEVICE_NAME_V2_BUFFER_SIZE / NVML_DEVICE_UUID_V2_BUFFER_SIZE. */
const STRING_BUFFER = 96;

type Fn = (...args: unknown[]) => number;

/** The bound library. Absent optional functions are `undefined`. */
export interface NvmlLibrary {
  init: () => number;
  shutdown: () => number;
  errorString: (ret: number) => string;
  getCount: (out: [number]) => number;
  getHandleByIndex: (index: number, out: [unknown]) => number;
  getName: (dev: unknown) => { ret: number; value?: string };
  getUuid: (dev: unknown) => { ret: number; value?: string };
  getUtilization: (dev: unknown, out: Record<string, number>) => number;
  getMemoryV1: (dev: unknown, out: Record<string, number | bigint>) => number;
  getMemoryV2?: (dev: unknown, inout: Record<string, number | bigint>) => number;
  getTemperature: (dev: unknown, sensor: number, out: [number]) => number;
  getPowerUsage: (dev: unknown, out: [number]) => number;
  getEnforcedPowerLimit: (dev: unknown, out: [number]) => number;
  getClockInfo: (dev: unknown, type: number, out: [number]) => number;
  getClockReasons?: (dev: unknown, out: [number | bigint]) => number;
  getTotalEccErrors: (dev: unknown, errorType: number, counter: number, out: [number | bigint]) => number;
  getMigMode?: (dev: unknown, current: [number], pending: [number]) => number;
  getMaxMigDeviceCount?: (dev: unknown, out: [number]) => number;
  getMigDeviceHandleByIndex?: (dev: unknown, index: number, out: [unknown]) => number;
  getAttributes?: (dev: unknown, out: Record<string, number | bigint>) => number;
  unload: () => void;
}

interface KoffiModule {
  load(path: string): { func(decl: string): Fn; unload(): void };
  opaque(): unknown;
  pointer(name: string, ref: unknown): unknown;
  struct(name: string, def: Record<string, string>): unknown;
}

let typesDefined = false;
// koffi's type names are process-wide: declare them once, whichever library path is loaded.
function defineTypes(koffi: KoffiModule): void {
  if (typesDefined) return;
  koffi.pointer('nvmlDevice_t', koffi.opaque());
  koffi.struct('nvmlUtilization_t', { gpu: 'unsigned int', memory: 'unsigned int' });
  koffi.struct('nvmlMemory_t', {
    total: 'unsigned long long',
    free: 'unsigned long long',
    used: 'unsigned long long',
  });
  koffi.struct('nvmlMemory_v2_t', {
    version: 'unsigned int',
    total: 'unsigned long long',
    reserved: 'unsigned long long',
    free: 'unsigned long long',
    used: 'unsigned long long',
  });
  koffi.struct('nvmlDeviceAttributes_t', {
    multiprocessorCount: 'unsigned int',
    sharedCopyEngineCount: 'unsigned int',
    sharedDecoderCount: 'unsigned int',
    sharedEncoderCount: 'unsigned int',
    sharedJpegCount: 'unsigned int',
    sharedOfaCount: 'unsigned int',
    gpuInstanceSliceCount: 'unsigned int',
    computeInstanceSliceCount: 'unsigned int',
    memorySizeMB: 'unsigned long long',
  });
  typesDefined = true;
}

/** Reads a NUL-terminated string out of a buffer NVML filled. */
function cString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end);
}

/**
 * Loads and binds NVML. Throws `unavailable` when koffi or the library cannot be loaded, or a
 * required symbol is missing (the message says which).
 */
export async function loadNvml(path = 'libnvidia-ml.so.1'): Promise<NvmlLibrary> {
  let koffi: KoffiModule;
  try {
    koffi = ((await import('koffi')) as unknown as { default: KoffiModule }).default;
  } catch (err) {
    throw new MeshError('unavailable', `NVML: the koffi FFI module cannot be loaded: ${String(err)}`);
  }
  let lib: ReturnType<KoffiModule['load']>;
  try {
    lib = koffi.load(path);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new MeshError('unavailable', `NVML: cannot load ${path} (no NVIDIA driver on this host?): ${why}`, {
      path,
    });
  }
  defineTypes(koffi);
  const required = (decl: string): Fn => {
    try {
      return lib.func(decl);
    } catch (err) {
      lib.unload();
      throw new MeshError('unavailable', `NVML: ${path} lacks a required function: ${decl}`, { cause: err });
    }
  };
  const optional = (...decls: string[]): Fn | undefined => {
    for (const decl of decls) {
      try {
        return lib.func(decl);
      } catch {
        // Older driver: try the next (older) name.
      }
    }
    return undefined;
  };
  const stringGetter = (fn: Fn) => (dev: unknown) => {
    const buf = Buffer.alloc(STRING_BUFFER);
    const ret = fn(dev, buf, STRING_BUFFER);
    return ret === NVML_SUCCESS ? { ret, value: cString(buf) } : { ret };
  };
  const errorString = required('const char *nvmlErrorString(int result)') as unknown as (r: number) => string;

  return {
    init: required('int nvmlInit_v2()'),
    shutdown: required('int nvmlShutdown()'),
    errorString: (ret) => errorString(ret) ?? `NVML error ${ret}`,
    getCount: required('int nvmlDeviceGetCount_v2(_Out_ unsigned int *count)'),
    getHandleByIndex: required(
      'int nvmlDeviceGetHandleByIndex_v2(unsigned int index, _Out_ nvmlDevice_t *device)',
    ),
    getName: stringGetter(
      required('int nvmlDeviceGetName(nvmlDevice_t device, _Out_ uint8_t *name, unsigned int length)'),
    ),
    getUuid: stringGetter(
      required('int nvmlDeviceGetUUID(nvmlDevice_t device, _Out_ uint8_t *uuid, unsigned int length)'),
    ),
    getUtilization: required(
      'int nvmlDeviceGetUtilizationRates(nvmlDevice_t device, _Out_ nvmlUtilization_t *utilization)',
    ),
    getMemoryV1: required('int nvmlDeviceGetMemoryInfo(nvmlDevice_t device, _Out_ nvmlMemory_t *memory)'),
    getMemoryV2: optional(
      'int nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, _Inout_ nvmlMemory_v2_t *memory)',
    ),
    getTemperature: required(
      'int nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor, _Out_ unsigned int *temp)',
    ),
    getPowerUsage: required('int nvmlDeviceGetPowerUsage(nvmlDevice_t device, _Out_ unsigned int *power)'),
    getEnforcedPowerLimit: required(
      'int nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, _Out_ unsigned int *limit)',
    ),
    getClockInfo: required(
      'int nvmlDeviceGetClockInfo(nvmlDevice_t device, int type, _Out_ unsigned int *clock)',
    ),
    getClockReasons: optional(
      'int nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device, _Out_ unsigned long long *reasons)',
      'int nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device, _Out_ unsigned long long *reasons)',
    ),
    getTotalEccErrors: required(
      'int nvmlDeviceGetTotalEccErrors(nvmlDevice_t device, int errorType, int counterType, _Out_ unsigned long long *count)',
    ),
    getMigMode: optional(
      'int nvmlDeviceGetMigMode(nvmlDevice_t device, _Out_ unsigned int *current, _Out_ unsigned int *pending)',
    ),
    getMaxMigDeviceCount: optional(
      'int nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t device, _Out_ unsigned int *count)',
    ),
    getMigDeviceHandleByIndex: optional(
      'int nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t device, unsigned int index, _Out_ nvmlDevice_t *mig)',
    ),
    getAttributes: optional(
      'int nvmlDeviceGetAttributes_v2(nvmlDevice_t device, _Out_ nvmlDeviceAttributes_t *attributes)',
      'int nvmlDeviceGetAttributes(nvmlDevice_t device, _Out_ nvmlDeviceAttributes_t *attributes)',
    ),
    unload: () => lib.unload(),
  };
}
