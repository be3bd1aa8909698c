/**
 * The quarantine policy as a pure function: given a GPU's reading, what the operator already
 * acknowledged, and how long each throttle reason has been active, is there a reason to take
 * the GPU out of service? Counters (ECC) and last-value gauges (XID) only trigger on a change
 * past what was acknowledged at the last release, or a released GPU would be quarantined again
 * at once by the same old error.
 */
import type { GpuQuarantineConfig } from '../../../core/config.ts';
import type { GpuState } from '../../../core/gpu.ts';

/** Why a GPU is quarantined; the `reason` label of `infermesh_gpu_quarantined`. */
export const QUARANTINE_REASONS = [
  'ecc_uncorrected',
  'xid',
  'temperature',
  'persistent_throttle',
  'lost',
] as const;
export type QuarantineReason = (typeof QUARANTINE_REASONS)[number];

/** What the policy remembers about one GPU between readings. */
export interface GpuHistory {
  /** Uncorrected ECC count at the last release (or first sight). */
  eccBaseline?: number;
  /** XID value at the last release (or first sight). */
  xidBaseline?: number;
  /** Throttle reason → Unix ms it was first seen active without a break. */
  throttleSince: Map<string, number>;
}

export interface Verdict {
  reason: QuarantineReason;
  /** Human detail, e.g. `temperature 96 C >= 90 C`. */
  detail: string;
}

/** Updates the throttle clocks of `history` with this reading. */
export function trackThrottle(state: GpuState, history: GpuHistory, now: number): void {
  const active = new Set(state.throttleReasons ?? []);
  for (const r of [...history.throttleSince.keys()]) if (!active.has(r)) history.throttleSince.delete(r);
  for (const r of active) if (!history.throttleSince.has(r)) history.throttleSince.set(r, now);
}

/** The first reason (in a fixed order: lost, ECC, XID, heat, throttle) the policy finds, if any. */
export function evaluate(
  state: GpuState,
  policy: GpuQuarantineConfig,
  history: GpuHistory,
  now: number,
): Verdict | undefined {
  // A source that reports the GPU gone (NVML's GPU_IS_LOST) is not serving anything.
  if (!state.healthy && state.quarantineReason === undefined)
    return { reason: 'lost', detail: 'the telemetry source reports the GPU lost' };
  const ecc = state.eccVolatileUncorrected;
  if (policy.onEccUncorrected && ecc !== undefined && ecc > (history.eccBaseline ?? 0))
    return { reason: 'ecc_uncorrected', detail: `${ecc} volatile uncorrected ECC error(s)` };
  const xid = state.xidLast;
  if (xid !== undefined && xid !== history.xidBaseline && policy.criticalXids.includes(xid))
    return { reason: 'xid', detail: `critical XID ${xid}` };
  const temp = state.temperatureC;
  if (policy.maxTemperatureC !== undefined && temp !== undefined && temp >= policy.maxTemperatureC)
    return { reason: 'temperature', detail: `temperature ${temp} C >= ${policy.maxTemperatureC} C` };
  const throttle = policy.persistentThrottle;
  if (throttle) {
    for (const r of throttle.reasons) {
      const since = history.throttleSince.get(r);
      if (since !== undefined && now - since >= throttle.forMs)
        return {
          reason: 'persistent_throttle',
          detail: `${r} active for ${Math.round((now - since) / 1000)} s`,
        };
    }
  }
  return undefined;
}
