/**
 * The simulated GPU source for the simulator fleet: one H100- or A100-like GPU per simulated
 * endpoint, with steady readings, and `inject` to make one misbehave (overheat, ECC errors, an
 * XID, throttling, loss) so quarantine can be exercised without hardware. In meshd each GPU also
 * reports what its simulator's `POST /sim/gpu-fault` forces (`fault`), so a test in another process
 * can do the same over HTTP.
 */
import type { GpuState } from '../../../core/gpu.ts';
import type { GpuSourceContext, GpuTelemetrySource } from '../types.ts';

/** One simulated GPU. */
export interface SimGpuSpec {
  uuid: string;
  name?: string;
  memoryTotalBytes?: number;
  /** Readings the simulated device forces right now (its simulator's `/sim/gpu-fault`). */
  fault?: () => SimGpuFault | undefined;
}

/** Readings a test or operator can force onto a simulated GPU until cleared. */
export type SimGpuFault = Partial<
  Pick<
    GpuState,
    'temperatureC' | 'eccVolatileUncorrected' | 'xidLast' | 'throttleReasons' | 'healthy' | 'smUtilization'
  >
>;

export interface SimGpuSource extends GpuTelemetrySource {
  /** Merges `fault` into the GPU's readings (later injections add to earlier ones). */
  inject(uuid: string, fault: SimGpuFault): void;
  /** Drops every injected reading of the GPU. */
  clear(uuid: string): void;
}

/** Deterministic UUID of a simulated GPU: `GPU-sim-<node>-<endpoint>`. */
export const simGpuUuid = (node: string, endpoint: string) => `GPU-sim-${node}-${endpoint}`;

export function createSimGpuSource(options: GpuSourceContext & { gpus: SimGpuSpec[] }): SimGpuSource {
  const now = options.now ?? Date.now;
  const faults = new Map<string, SimGpuFault>();
  return {
    kind: 'sim',
    read() {
      const t = now();
      return Promise.resolve(
        options.gpus.map((g, index): GpuState => {
          const total = g.memoryTotalBytes ?? 85_520_809_984;
          return {
            uuid: g.uuid,
            index,
            name: g.name ?? 'Simulated H100 80GB HBM3',
            node: options.node,
            smUtilization: 0.3,
            memoryUtilization: 0.1,
            memoryUsedBytes: Math.round(total * 0.9),
            memoryTotalBytes: total,
            temperatureC: 45,
            powerWatts: 300,
            powerLimitWatts: 700,
            smClockMHz: 1980,
            throttleReasons: [],
            eccVolatileUncorrected: 0,
            eccVolatileCorrected: 0,
            migMode: false,
            healthy: true,
            updatedAt: t,
            source: 'sim',
            ...g.fault?.(),
            ...faults.get(g.uuid),
          };
        }),
      );
    },
    inject(uuid, fault) {
      faults.set(uuid, { ...faults.get(uuid), ...fault });
    },
    clear(uuid) {
      faults.delete(uuid);
    },
    close: () => Promise.resolve(),
  };
}
