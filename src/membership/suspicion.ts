/**
 * Lifeguard's suspicion timer: a suspected member is declared dead when its timer runs out. The
 * timer starts at `maxMs` and shrinks, logarithmically, toward `minMs` as independent members
 * confirm the suspicion (a suspect message from a `from` not seen before), reaching `minMs` after
 * `k` confirmations. With `k` < 1 (too few members to confirm) it runs `minMs` from the start.
 *
 * remaining(n) = max(min, max − (max − min) · ln(n + 1) / ln(k + 1)) − elapsed
 */
import type { Clock, TimerId } from './clock.ts';

export interface Suspicion {
  /** Records a confirmation from `from`; true when it was new and counted (then re-gossip it). */
  confirm(from: string): boolean;
  /** Confirmations counted so far. */
  confirmations(): number;
  /** When the timer will fire (clock ms). */
  deadline(): number;
  cancel(): void;
}

export interface SuspicionOptions {
  clock: Clock;
  /** Who raised the suspicion: never counted as a confirmation. */
  from: string;
  /** Confirmations expected before the timeout reaches its minimum. */
  k: number;
  minMs: number;
  maxMs: number;
  /** Called once when the timer runs out, with the confirmations counted. */
  onTimeout: (confirmations: number) => void;
}

/** Time left (ms, may be ≤ 0) after `n` of `k` confirmations, `elapsedMs` into the suspicion. */
export function remainingSuspicionMs(n: number, k: number, elapsedMs: number, minMs: number, maxMs: number) {
  const frac = k < 1 ? 1 : Math.log(n + 1) / Math.log(k + 1);
  const timeout = Math.max(minMs, Math.floor(maxMs - frac * (maxMs - minMs)));
  return timeout - elapsedMs;
}

export function createSuspicion(opts: SuspicionOptions): Suspicion {
  const { clock, k, minMs, maxMs } = opts;
  const start = clock.now();
  const seen = new Set<string>([opts.from]);
  let n = 0;
  let done = false;
  let due = start + (k < 1 ? minMs : maxMs);
  let timer: TimerId | undefined = clock.setTimer(due - start, fire);

  function fire(): void {
    timer = undefined;
    if (done) return;
    done = true;
    opts.onTimeout(n);
  }

  return {
    confirm(from) {
      if (done || n >= k || seen.has(from)) return false;
      seen.add(from);
      n++;
      const remaining = remainingSuspicionMs(n, k, clock.now() - start, minMs, maxMs);
      if (timer !== undefined) clock.clearTimer(timer);
      due = clock.now() + Math.max(0, remaining);
      timer = clock.setTimer(Math.max(0, remaining), fire);
      return true;
    },
    confirmations: () => n,
    deadline: () => due,
    cancel() {
      done = true;
      if (timer !== undefined) clock.clearTimer(timer);
      timer = undefined;
    },
  };
}
