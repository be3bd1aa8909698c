/**
 * Sources build a `GpuState` with every field they ask for and then drop the ones the device did
 * not report: a record holds only what the source saw, never a key with `undefined` in it.
 */
import type { GpuState } from '../../core/gpu.ts';

/** Deletes every key of `state` whose value is undefined; returns the same object. */
export function dropUndefined(state: GpuState): GpuState {
  for (const key of Object.keys(state) as Array<keyof GpuState>)
    if (state[key] === undefined) delete state[key];
  return state;
}
