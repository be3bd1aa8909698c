/**
 * A virtual `SimClock` with a binary heap of timers, for fleets of hundreds of simulated engines:
 * the simulator's own `createVirtualClock` scans every timer per firing, which is fine for a test
 * and quadratic for 1,000 endpoints. Same contract: timers fire in time order, ties in creation order.
 */
import type { SimClock, TimerId } from '../../src/sim/clock.ts';

export interface HeapClock extends SimClock {
  /** Fires the next due timer; false when none is left or it is past `limit`. */
  step(limit?: number): boolean;
  pending(): number;
}

export function createHeapClock(): HeapClock {
  let now = 0;
  let seq = 1;
  const at: number[] = [];
  const ids: number[] = [];
  const fns = new Map<TimerId, () => void>();
  const less = (i: number, j: number) => at[i]! < at[j]! || (at[i] === at[j] && ids[i]! < ids[j]!);
  const swap = (i: number, j: number) => {
    [at[i], at[j]] = [at[j]!, at[i]!];
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  };
  const push = (t: number, id: number) => {
    at.push(t);
    ids.push(id);
    for (let i = at.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!less(i, p)) break;
      swap(i, p);
      i = p;
    }
  };
  const pop = () => {
    const last = at.length - 1;
    swap(0, last);
    at.pop();
    const id = ids.pop()!;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < at.length && less(l, m)) m = l;
      if (r < at.length && less(r, m)) m = r;
      if (m === i) break;
      swap(i, m);
      i = m;
    }
    return id;
  };
  return {
    now: () => now,
    setTimer(delayMs, fn) {
      const id = seq++;
      fns.set(id, fn);
      push(now + Math.max(0, delayMs), id);
      return id;
    },
    clearTimer(id) {
      fns.delete(id); // lazily skipped when popped
    },
    step(limit = Infinity) {
      while (at.length > 0) {
        if (at[0]! > limit) return false;
        const t = at[0]!;
        const id = pop();
        const fn = fns.get(id);
        if (!fn) continue;
        fns.delete(id);
        now = Math.max(now, t);
        fn();
        return true;
      }
      return false;
    },
    pending: () => fns.size,
  };
}
