/** The rocm-smi source: one `rocm-smi … --json` run per reading (AMD GPUs). */
import type { GpuSourceContext, GpuTelemetrySource } from '../types.ts';
import { runCommand } from '../exec-source.ts';
import { parseRocmSmiJson, ROCM_SMI_ARGS } from './parse.ts';

export interface RocmSmiSourceOptions extends GpuSourceContext {
  /** Binary to run; default `rocm-smi` from PATH. */
  command?: string;
  timeoutMs?: number;
}

export function createRocmSmiSource(options: RocmSmiSourceOptions): GpuTelemetrySource {
  const now = options.now ?? Date.now;
  return {
    kind: 'rocm-smi',
    async read() {
      const text = await runCommand(
        options.command ?? 'rocm-smi',
        ROCM_SMI_ARGS,
        options.timeoutMs ?? 10_000,
      );
      return parseRocmSmiJson(text, { node: options.node, now: now() });
    },
    close: () => Promise.resolve(),
  };
}
