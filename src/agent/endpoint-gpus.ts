/**
 * Which GPUs this node's configured endpoints run on, from config alone (`gpus` on runtimes and
 * simulators; a simulator defaults to its one sim GPU). Kept apart from the telemetry role so the
 * router's threads can read it without loading the GPU sources.
 */
import type { MeshConfig, SimulatorConfig } from '../core/config.ts';
import { simGpuUuid } from '../signal/gpu/sim/source.ts';

/** A simulator's GPUs: the `gpus` its config lists, else the one sim GPU named after it. */
export const simulatorGpus = (node: string, s: SimulatorConfig): string[] =>
  s.gpus?.length ? [...s.gpus] : [simGpuUuid(node, s.name)];

/** Endpoint id → GPU UUIDs from config. */
export function endpointGpusFromConfig(config: MeshConfig): Map<string, string[]> {
  const node = config.node.id;
  const out = new Map<string, string[]>();
  for (const r of config.gpu.runtimes) if (r.gpus?.length) out.set(`${node}/${r.name}`, [...r.gpus]);
  for (const s of config.gpu.simulators) out.set(`${node}/${s.name}`, simulatorGpus(node, s));
  return out;
}
