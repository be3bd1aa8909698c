/**
 * The benchmark's fleets, sized the way vLLM sizes each GPU (`src/sim/sizing.ts`), and a mean
 * throughput estimate of a fleet for a workload. The estimate only seeds the capacity search
 * (`capacity-slo.ts`): the loads the benchmark runs at are fractions of the rate at which a baseline
 * still meets the SLO, found by simulation, not of this number.
 */
import { BLOCK_SIZE } from '../../src/sim/kv-cache.ts';
import { GPU_PROFILES } from '../../src/sim/profiles.ts';
import { defaultSizing } from '../../src/sim/sizing.ts';
import { stepTimeMs } from '../../src/sim/step-time.ts';
import type { TraceRequest } from './traces.ts';

export interface EndpointSpec {
  gpu: 'h100' | 'a100';
  maxNumSeqs: number;
  kvBlocks: number;
  maxNumBatchedTokens: number;
}

/** The fleets the benchmark runs: mixed (H100, A100 alternating) and all-H100. */
export const FLEETS = {
  mixed: '8 × H100 + 8 × A100 (alternating)',
  h100: '16 × H100',
} as const;
export type FleetKind = keyof typeof FLEETS;

/** One endpoint of `gpu` with the simulator's GPU-sized defaults (vLLM's sizing for that GPU). */
export function gpuSpec(gpu: EndpointSpec['gpu']): EndpointSpec {
  const s = defaultSizing(GPU_PROFILES[gpu], BLOCK_SIZE);
  return { gpu, maxNumSeqs: s.maxNumSeqs, kvBlocks: s.kvBlocks, maxNumBatchedTokens: s.maxNumBatchedTokens };
}

/** `n` endpoints of fleet `kind` (`mixed`: H100 at even positions, A100 at odd). */
export function makeFleet(kind: FleetKind, n: number): EndpointSpec[] {
  return Array.from({ length: n }, (_, i) => gpuSpec(kind === 'h100' || i % 2 === 0 ? 'h100' : 'a100'));
}

/** One line describing a fleet's sizing, for reports. */
export function describeFleet(kind: FleetKind, n: number): string {
  const specs = [...new Map(makeFleet(kind, n).map((s) => [s.gpu, s])).values()];
  const sizes = specs
    .map(
      (s) =>
        `${s.gpu.toUpperCase()}: max_num_seqs ${s.maxNumSeqs}, ${s.maxNumBatchedTokens} tokens/step, ${s.kvBlocks.toLocaleString('en-US')} KV blocks of ${BLOCK_SIZE}`,
    )
    .join('; ');
  return `${n} endpoints, ${kind === 'h100' ? `${n} × H100` : `${Math.ceil(n / 2)} × H100 + ${Math.floor(n / 2)} × A100`} (${sizes}; src/sim/sizing.ts)`;
}

/** GPU ms one request of `input`/`output` tokens costs on `spec`, at a batch of `batch` decodes. */
export function requestGpuMs(spec: EndpointSpec, input: number, output: number): number {
  const profile = GPU_PROFILES[spec.gpu];
  const chunk = spec.maxNumBatchedTokens;
  let ms = 0;
  for (let done = 0; done < input; done += chunk) {
    ms += stepTimeMs(profile, [{ newTokens: Math.min(chunk, input - done), contextTokens: done }]);
  }
  if (output === 0) return ms;
  const kvTokens = spec.kvBlocks * BLOCK_SIZE;
  const batch = Math.max(1, Math.min(spec.maxNumSeqs, Math.floor((0.75 * kvTokens) / (input + output))));
  const ctx = input + output / 2;
  const step = stepTimeMs(
    profile,
    Array.from({ length: batch }, () => ({ newTokens: 1, contextTokens: ctx })),
  );
  return ms + (output * step) / batch;
}

/** Requests per second the fleet sustains for the trace's mean request (a first guess only). */
export function fleetCapacity(fleet: readonly EndpointSpec[], requests: readonly TraceRequest[]): number {
  const n = requests.length || 1;
  const input = requests.reduce((a, r) => a + r.inputTokens, 0) / n;
  const output = requests.reduce((a, r) => a + r.outputTokens, 0) / n;
  return fleet.reduce((sum, spec) => sum + 1000 / requestGpuMs(spec, input, output), 0);
}
