/**
 * Nominal fleet capacity for a workload, from the simulator's own step-time model: the GPU time one
 * mean request takes (its prompt in 2,048-token chunks, then its share of decode steps in a batch as
 * full as KV and `maxNumSeqs` allow), inverted and summed over the fleet. Loads of 50/80/95% are
 * fractions of this number. It ignores prefix-cache reuse, so it is conservative for Mooncake.
 */
import { GPU_PROFILES } from '../../src/sim/profiles.ts';
import { stepTimeMs } from '../../src/sim/step-time.ts';
import type { TraceRequest } from './traces.ts';

export interface EndpointSpec {
  gpu: 'h100' | 'a100';
  maxNumSeqs: number;
  kvBlocks: number;
}

/** GPU ms one request of `input`/`output` tokens costs on `spec`, at a batch of `batch` decodes. */
export function requestGpuMs(spec: EndpointSpec, input: number, output: number): number {
  const profile = GPU_PROFILES[spec.gpu];
  let ms = 0;
  for (let done = 0; done < input; done += 2048) {
    ms += stepTimeMs(profile, [{ newTokens: Math.min(2048, input - done), contextTokens: done }]);
  }
  const kvTokens = spec.kvBlocks * 16;
  const batch = Math.max(1, Math.min(spec.maxNumSeqs, Math.floor((0.75 * kvTokens) / (input + output))));
  const ctx = input + output / 2;
  const step = stepTimeMs(
    profile,
    Array.from({ length: batch }, () => ({ newTokens: 1, contextTokens: ctx })),
  );
  return ms + (output * step) / batch;
}

/** Requests per second the fleet sustains for the trace's mean request. */
export function fleetCapacity(fleet: readonly EndpointSpec[], requests: readonly TraceRequest[]): number {
  const n = requests.length || 1;
  const input = requests.reduce((a, r) => a + r.inputTokens, 0) / n;
  const output = requests.reduce((a, r) => a + r.outputTokens, 0) / n;
  return fleet.reduce((sum, spec) => sum + 1000 / requestGpuMs(spec, input, output), 0);
}
