/**
 * Fault injection for router tests: the next `count` inference requests fail in the chosen way.
 * `error-500` answers a vLLM-shaped 500; `reset-before-headers` destroys the socket before any
 * byte; `reset-mid-stream` sends the headers and the first chunk (stream) or half the body
 * (non-stream), then destroys the socket; `hang` reads the request and never answers. A straggler
 * (the whole engine N× slow, for periods) is a clock: `createStragglerClock` below.
 */
import { createRealClock, type SimClock, type TimerId } from './clock.ts';

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

/**
 * A straggler: a simulator whose engine runs `factor`× slower than its GPU profile says, for
 * periods (a throttled, shared or degraded GPU). It is the simulator's clock that slows: pass it
 * as the server's `clock` and every step (prefill and decode alike) takes `factor`× its time, in
 * the simulator's own accounting too, so the engine's batching and queueing stay self-consistent.
 */
export interface StragglerClock extends SimClock {
  /** Runs `factor`× slower from now on (1 = normal speed); pending timers move accordingly. */
  setSlowdown(factor: number): void;
  /** The current slowdown factor. */
  slowdown(): number;
  /** Stops the schedule's timers (the clock then keeps its current speed). */
  stop(): void;
}

/** Slow for `slowMs` out of every `periodMs` (real ms), first from `offsetMs` after the start. */
export interface StragglerSchedule {
  factor: number;
  periodMs: number;
  slowMs: number;
  offsetMs?: number;
}

/** A straggler clock over `base` (real time by default), slowed by hand or on `schedule`. */
export function createStragglerClock(
  base: SimClock = createRealClock(),
  schedule?: StragglerSchedule,
): StragglerClock {
  let factor = 1;
  let virtualAt = base.now();
  let realAt = base.now();
  let next = 1;
  const timers = new Map<TimerId, { at: number; fn: () => void; base: TimerId }>();
  const now = () => virtualAt + (base.now() - realAt) / factor;

  function arm(id: TimerId, at: number, fn: () => void): TimerId {
    return base.setTimer(Math.max(0, (at - now()) * factor), () => {
      timers.delete(id);
      fn();
    });
  }

  function setSlowdown(f: number): void {
    if (!(f > 0) || f === factor) return;
    virtualAt = now();
    realAt = base.now();
    factor = f;
    for (const [id, t] of timers) {
      base.clearTimer(t.base);
      t.base = arm(id, t.at, t.fn);
    }
  }

  let scheduleTimer: TimerId | undefined;
  if (schedule && schedule.factor > 0 && schedule.slowMs > 0 && schedule.periodMs > schedule.slowMs) {
    const { periodMs, slowMs } = schedule;
    const slow = () => {
      setSlowdown(schedule.factor);
      scheduleTimer = base.setTimer(slowMs, fast);
    };
    const fast = () => {
      setSlowdown(1);
      scheduleTimer = base.setTimer(periodMs - slowMs, slow);
    };
    scheduleTimer = base.setTimer(schedule.offsetMs ?? 0, slow);
  }

  return {
    now,
    setTimer(delayMs, fn) {
      const id = next++;
      const at = now() + Math.max(0, delayMs);
      timers.set(id, { at, fn, base: arm(id, at, fn) });
      return id;
    },
    clearTimer(id) {
      const t = timers.get(id);
      if (t) base.clearTimer(t.base);
      timers.delete(id);
    },
    setSlowdown,
    slowdown: () => factor,
    stop() {
      if (scheduleTimer !== undefined) base.clearTimer(scheduleTimer);
      scheduleTimer = undefined;
    },
  };
}
