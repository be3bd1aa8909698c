/**
 * Time for the simulator, injectable. The engine never touches `setTimeout` or `Date`: it asks a
 * `SimClock` for the time and for timers, so the HTTP server runs it on real timers and a
 * benchmark or test runs it on virtual time (no sockets, no waiting, fully deterministic).
 */

import type { Clock, TimerId } from '../core/clock.ts';

export { createRealClock, type TimerId } from '../core/clock.ts';

/** The clock the engine runs against (`src/core/clock.ts`). */
export type SimClock = Clock;

/** A clock that moves only when told to; timers fire in time order (ties in creation order). */
export interface VirtualClock extends SimClock {
  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void;
  /** Fires timers until none is left or `maxTimers` fired; returns how many fired. */
  runAll(maxTimers?: number): number;
  /** Fires timers until `done()` is true or none is left; returns whether `done()` became true. */
  runUntil(done: () => boolean, maxTimers?: number): boolean;
  /** Timers still pending. */
  pending(): number;
}

/** Virtual time starting at `startMs` (default 0). */
export function createVirtualClock(startMs = 0): VirtualClock {
  let now = startMs;
  let next = 1;
  const timers = new Map<TimerId, { at: number; fn: () => void }>();

  function nextDue(): [TimerId, { at: number; fn: () => void }] | undefined {
    let best: [TimerId, { at: number; fn: () => void }] | undefined;
    for (const entry of timers) if (!best || entry[1].at < best[1].at) best = entry;
    return best;
  }

  function fireNext(limit: number): boolean {
    const due = nextDue();
    if (!due || due[1].at > limit) return false;
    timers.delete(due[0]);
    now = Math.max(now, due[1].at);
    due[1].fn();
    return true;
  }

  return {
    now: () => now,
    setTimer(delayMs, fn) {
      const id = next++;
      timers.set(id, { at: now + Math.max(0, delayMs), fn });
      return id;
    },
    clearTimer(id) {
      timers.delete(id);
    },
    advance(ms) {
      const target = now + ms;
      while (fireNext(target));
      now = target;
    },
    runAll(maxTimers = 1_000_000) {
      let n = 0;
      while (n < maxTimers && fireNext(Infinity)) n++;
      return n;
    },
    runUntil(done, maxTimers = 1_000_000) {
      for (let n = 0; n < maxTimers && !done(); n++) if (!fireNext(Infinity)) break;
      return done();
    },
    pending: () => timers.size,
  };
}
