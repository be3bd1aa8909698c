/**
 * The contract every GPU telemetry source implements: NVML, dcgm-exporter, nvidia-smi, rocm-smi
 * and the simulator all turn their native readings into `GpuState` records.
 */
import type { GpuSource, GpuState } from '../../core/gpu.ts';

/** One GPU telemetry source. `read` never invents a field the source cannot see. */
export interface GpuTelemetrySource {
  readonly kind: GpuSource;
  /** One reading of every GPU and MIG instance the source sees. Throws a MeshError when it cannot read. */
  read(): Promise<GpuState[]>;
  /** Releases what the source holds (a library handle, a child process). Safe to call twice. */
  close(): Promise<void>;
}

/** The node name and clock every source stamps its records with. */
export interface GpuSourceContext {
  node: string;
  now?: () => number;
}
