/**
 * The normalised state of one GPU (or MIG instance), whichever source read it: NVML, dcgm-exporter,
 * nvidia-smi, rocm-smi or the simulator. Fields a source cannot read are absent, never invented.
 */

export const GPU_SOURCES = ['nvml', 'dcgm', 'nvidia-smi', 'rocm-smi', 'sim'] as const;
export type GpuSource = (typeof GPU_SOURCES)[number];

export interface GpuState {
  /** `GPU-…` for a GPU, `MIG-…` for a MIG instance. */
  uuid: string;
  index: number;
  name: string;
  node: string;
  /** SM (compute) busy fraction over the driver's sample period, 0..1. */
  smUtilization?: number;
  /** Memory controller busy fraction, 0..1. */
  memoryUtilization?: number;
  memoryUsedBytes?: number;
  memoryTotalBytes?: number;
  temperatureC?: number;
  powerWatts?: number;
  powerLimitWatts?: number;
  smClockMHz?: number;
  /** Decoded clock throttle / event reasons, e.g. `sw_power_cap`, `hw_thermal_slowdown`. */
  throttleReasons?: string[];
  eccVolatileUncorrected?: number;
  eccVolatileCorrected?: number;
  /** Last XID error code seen, where the source reports XIDs. */
  xidLast?: number;
  migMode?: boolean;
  /** MIG profile of an instance, e.g. `1g.10gb`. */
  migProfile?: string;
  /** The physical GPU of a MIG instance. */
  parentUuid?: string;
  /** False while quarantined or when the source reports the GPU lost. */
  healthy: boolean;
  quarantineReason?: string;
  /** Unix ms of the reading. */
  updatedAt: number;
  source: GpuSource;
}
