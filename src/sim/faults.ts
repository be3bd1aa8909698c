/**
 * Fault injection for router tests: the next `count` inference requests fail in the chosen way.
 * `error-500` answers a vLLM-shaped 500; `reset-before-headers` destroys the socket before any
 * byte; `reset-mid-stream` sends the headers and the first chunk (stream) or half the body
 * (non-stream), then destroys the socket; `hang` reads the request and never answers.
 */

export const FAULT_MODES = ['none', 'error-500', 'reset-before-headers', 'reset-mid-stream', 'hang'] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/** What `setFault()` and `POST /sim/fault` take. `count` defaults to 1. */
export interface Fault {
  mode: FaultMode;
  count?: number;
}

export interface FaultState {
  set(fault: Fault): { mode: FaultMode; count: number };
  /** The fault for the next inference request (using one up), or `none`. */
  take(): FaultMode;
  current(): { mode: FaultMode; count: number };
}

/** Checks an untrusted fault description; returns an error message or the fault. */
export function parseFault(v: unknown): Fault | string {
  if (typeof v !== 'object' || v === null) return 'the fault must be a JSON object';
  const { mode, count } = v as { mode?: unknown; count?: unknown };
  if (typeof mode !== 'string' || !(FAULT_MODES as readonly string[]).includes(mode)) {
    return `mode must be one of ${FAULT_MODES.join(', ')}`;
  }
  if (count !== undefined && (typeof count !== 'number' || !Number.isInteger(count) || count < 0)) {
    return 'count must be a non-negative integer';
  }
  return { mode: mode as FaultMode, ...(count === undefined ? {} : { count }) };
}

export function createFaultState(): FaultState {
  let mode: FaultMode = 'none';
  let count = 0;
  return {
    set(fault) {
      mode = fault.mode;
      count = mode === 'none' ? 0 : (fault.count ?? 1);
      if (count === 0) mode = 'none';
      return { mode, count };
    },
    take() {
      if (count <= 0) return 'none';
      const m = mode;
      if (--count === 0) mode = 'none';
      return m;
    },
    current: () => ({ mode, count }),
  };
}
