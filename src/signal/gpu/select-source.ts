/**
 * Builds the configured GPU telemetry source, or picks the best one this host has (`auto`):
 * NVML if libnvidia-ml loads, else nvidia-smi on PATH, else rocm-smi on PATH.
 */
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { MeshError } from '../../core/errors.ts';
import type { GpuSource } from '../../core/gpu.ts';
import { createDcgmSource } from './dcgm/source.ts';
import { createNvidiaSmiSource } from './nvidia-smi/source.ts';
import { createNvmlSource } from './nvml/adapter.ts';
import { createRocmSmiSource } from './rocm-smi/source.ts';
import { createSimGpuSource, type SimGpuSpec } from './sim/source.ts';
import type { GpuTelemetrySource } from './types.ts';

export interface SelectSourceOptions {
  source: GpuSource | 'auto';
  node: string;
  /** dcgm-exporter metrics URL. */
  url?: string;
  intervalMs?: number;
  /** GPUs of the `sim` source. */
  simGpus?: SimGpuSpec[];
  /** NVML library path (tests point it at the stub). */
  nvmlLibrary?: string;
  /** PATH to search for nvidia-smi / rocm-smi; default process.env.PATH. */
  path?: string;
}

/** The full path of the executable `name` in a directory of `path`; undefined when there is none. */
async function onPath(name: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const full = join(dir, name);
    try {
      await access(full, constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Creates the source. Throws `unavailable` when it cannot start, `invalid_config` when misconfigured. */
export async function createGpuTelemetrySource(options: SelectSourceOptions): Promise<GpuTelemetrySource> {
  const { node } = options;
  switch (options.source) {
    case 'nvml':
      return createNvmlSource({ node, libraryPath: options.nvmlLibrary });
    case 'dcgm':
      if (!options.url)
        throw new MeshError('invalid_config', 'GPU telemetry source dcgm needs a url (gpu.telemetry.url)');
      return createDcgmSource({ node, url: options.url });
    case 'nvidia-smi': {
      const command = (await onPath('nvidia-smi', options.path)) ?? 'nvidia-smi';
      return createNvidiaSmiSource({ node, command, intervalMs: options.intervalMs });
    }
    case 'rocm-smi': {
      const command = (await onPath('rocm-smi', options.path)) ?? 'rocm-smi';
      return createRocmSmiSource({ node, command });
    }
    case 'sim':
      return createSimGpuSource({ node, gpus: options.simGpus ?? [] });
    case 'auto':
      return pickBest(options);
  }
}

async function pickBest(options: SelectSourceOptions): Promise<GpuTelemetrySource> {
  const tried: string[] = [];
  try {
    return await createNvmlSource({ node: options.node, libraryPath: options.nvmlLibrary });
  } catch (err) {
    tried.push(MeshError.from(err).message);
  }
  for (const tool of ['nvidia-smi', 'rocm-smi'] as const) {
    if (await onPath(tool, options.path)) return createGpuTelemetrySource({ ...options, source: tool });
    tried.push(`${tool} is not on PATH`);
  }
  throw new MeshError('unavailable', `no GPU telemetry source on this host: ${tried.join('; ')}`, { tried });
}
