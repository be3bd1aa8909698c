/**
 * Time for the membership protocol, injectable. The protocol never touches `setTimeout` or
 * `Date`: it asks a `Clock` for the time and for timers, so meshd runs it on real timers and a
 * test runs a whole cluster on virtual time (no sockets, no waiting, fully deterministic).
 */

import type { Clock, TimerId } from '../core/clock.ts';

export { createRealClock, type Clock, type TimerId } from '../core/clock.ts';

/** A clock that moves only when told to; timers fire in time order, ties in creation order. */
export interface VirtualClock extends Clock {
  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void;
  /** Fires every timer due at or before `t` (timers they set included), then sets the time to `t`. */
  runUntil(t: number): void;
  /** Timers still pending. */
  pending(): number;
}

interface Entry {
  at: number;
  /** Creation order: the tie-break between timers due at the same time. */
  id: TimerId;
  fn: () => void;
}

const before = (a: Entry, b: Entry) => a.at < b.at || (a.at === b.at && a.id < b.id);

/** Virtual time starting at `startMs` (default 0): a binary min-heap of timers, cancelled lazily. */
export function createVirtualClock(startMs = 0): VirtualClock {
  let now = startMs;
  let next = 1;
  const heap: Entry[] = [];
  const live = new Set<TimerId>();

  function push(e: Entry): void {
    heap.push(e);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  }

  function pop(): Entry | undefined {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }

  function runUntil(t: number): void {
    for (;;) {
      // Drop cancelled timers from the top so the due check sees a live one.
      while (heap.length > 0 && !live.has(heap[0]!.id)) pop();
      const top = heap[0];
      if (!top || top.at > t) break;
      pop();
      live.delete(top.id);
      now = Math.max(now, top.at);
      top.fn();
    }
    now = Math.max(now, t);
  }

  return {
    now: () => now,
    setTimer(delayMs, fn) {
      const id = next++;
      const d = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
      live.add(id);
      push({ at: now + d, id, fn });
      return id;
    },
    clearTimer(id) {
      live.delete(id);
    },
    advance(ms) {
      runUntil(now + Math.max(0, ms));
    },
    runUntil,
    pending: () => live.size,
  };
}
