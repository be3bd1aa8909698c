/**
 * Time. `processClockMs`: one clock every thread of the process reads alike. `Clock`: injectable
 * time for code that runs both on real timers and, in tests, on a virtual clock (the simulator's
 * engine, the membership protocol): it asks a `Clock` for the time and for timers and never touches
 * `setTimeout` or `Date` itself.
 */

/**
 * Milliseconds on one clock that every thread of the process reads alike: `performance.now()` is
 * relative to each thread's own start, `timeOrigin + now()` is not. Engine replicas on several
 * threads stamp their journal events with it.
 */
export const processClockMs = (): number => performance.timeOrigin + performance.now();

/** An opaque timer handle. */
export type TimerId = number;

/** A clock. Times are milliseconds on the clock's own monotonic axis. */
export interface Clock {
  now(): number;
  /** Calls `fn` once, `delayMs` (>= 0) from now. */
  setTimer(delayMs: number, fn: () => void): TimerId;
  /** Cancels a timer; unknown or already fired ids are ignored. */
  clearTimer(id: TimerId): void;
}

/** Real time: `performance.now()` and `setTimeout`. `unref` timers do not keep the process alive. */
export function createRealClock(options: { unref?: boolean } = {}): Clock {
  const timers = new Map<TimerId, NodeJS.Timeout>();
  let next = 1;
  return {
    now: () => performance.now(),
    setTimer(delayMs, fn) {
      const id = next++;
      const t = setTimeout(
        () => {
          timers.delete(id);
          fn();
        },
        Math.max(0, delayMs),
      );
      if (options.unref) t.unref();
      timers.set(id, t);
      return id;
    },
    clearTimer(id) {
      const t = timers.get(id);
      if (t) clearTimeout(t);
      timers.delete(id);
    },
  };
}
