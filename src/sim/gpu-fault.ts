/**
 * GPU fault injection: readings the simulated GPU behind this simulator reports until cleared, for
 * quarantine tests across processes. meshd's `sim` GPU telemetry source reads them from the
 * in-process simulators it started, so a test (or operator) with only HTTP access to the
 * simulator makes its GPU overheat, raise ECC errors or an XID, throttle, or drop off the bus.
 */

/** Readings forced onto the simulated GPU; absent fields keep their normal values. */
export interface GpuFault {
  temperatureC?: number;
  eccVolatileUncorrected?: number;
  xidLast?: number;
  throttleReasons?: string[];
  /** `false` reports the GPU lost, as NVML's GPU_IS_LOST would. */
  healthy?: boolean;
}

const COUNTS = ['eccVolatileUncorrected', 'xidLast'] as const;

/** Checks an untrusted GPU fault (`POST /sim/gpu-fault`); returns an error message or the fault. `{}` clears. */
export function parseGpuFault(v: unknown): GpuFault | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'the GPU fault must be a JSON object';
  const o = v as Record<string, unknown>;
  const known = ['temperatureC', 'healthy', 'throttleReasons', ...COUNTS];
  const unknown = Object.keys(o).find((k) => !known.includes(k));
  if (unknown) return `unknown field "${unknown}"; expected ${known.join(', ')}`;
  if (
    o.temperatureC !== undefined &&
    (typeof o.temperatureC !== 'number' || !Number.isFinite(o.temperatureC))
  )
    return 'temperatureC must be a number';
  for (const k of COUNTS)
    if (o[k] !== undefined && (typeof o[k] !== 'number' || !Number.isInteger(o[k]) || o[k] < 0))
      return `${k} must be a non-negative integer`;
  if (o.healthy !== undefined && typeof o.healthy !== 'boolean') return 'healthy must be a boolean';
  if (
    o.throttleReasons !== undefined &&
    !(Array.isArray(o.throttleReasons) && o.throttleReasons.every((r) => typeof r === 'string'))
  )
    return 'throttleReasons must be a list of strings';
  return { ...o };
}
