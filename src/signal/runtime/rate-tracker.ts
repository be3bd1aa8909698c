/**
 * The per-endpoint memory every adapter needs between scrapes: the previous readings of each model
 * and the time they were taken, so cumulative counters and histograms become rates and p95s over
 * the window between two successful scrapes (reset rules: window.ts). Each runtime supplies only
 * `derive`, the arithmetic on its own readings.
 */
import type { ModelState } from '../../core/types.ts';
import {
  counterDelta,
  histogramDelta,
  histogramQuantile,
  type CounterReading,
  type HistogramReading,
} from './window.ts';

/** The record fields computed over a window (absent = unknown for this window). */
export type WindowSignals = Pick<
  ModelState,
  'requestRate' | 'tokenRate' | 'prefixCacheHitRate' | 'ttftP95Ms' | 'e2eP95Ms' | 'itlP95Ms'
>;

export interface RateTrackerOptions {
  /**
   * A window shorter than this (two scrapes back to back) would turn one request into a huge rate:
   * the previous derived values are returned and the baseline is kept. Default 200 ms.
   */
  minWindowMs?: number;
}

export interface RateTracker<R, D> {
  /** Folds in a successful scrape taken at `now` (Unix ms); returns each model's derived signals. */
  update(readings: Map<string, R>, now: number): Map<string, D>;
}

/** Window length in seconds and the previous reading (absent on the first scrape of a model). */
export type Derive<R, D> = (prev: R | undefined, cur: R, windowS: number) => D;

/** A tracker for one endpoint. Feed it successful scrapes only; a failed one widens the next window. */
export function createRateTracker<R, D>(
  derive: Derive<R, D>,
  options: RateTrackerOptions = {},
): RateTracker<R, D> {
  const minWindowMs = options.minWindowMs ?? 200;
  let previous: { at: number; readings: Map<string, R> } | undefined;
  let last = new Map<string, D>();
  return {
    update(readings, now) {
      const windowMs = previous ? now - previous.at : Infinity;
      if (previous && windowMs < minWindowMs) {
        const out = new Map<string, D>();
        for (const model of readings.keys()) {
          const d = last.get(model);
          if (d !== undefined) out.set(model, d);
        }
        return out;
      }
      const derived = new Map<string, D>();
      for (const [model, cur] of readings)
        derived.set(model, derive(previous?.readings.get(model), cur, windowMs / 1000));
      previous = { at: now, readings };
      last = derived;
      return derived;
    },
  };
}

/** Δcounter / window, or undefined (first scrape, reset, rename). */
export function ratePerS(
  prev: CounterReading | undefined,
  cur: CounterReading | undefined,
  windowS: number,
): number | undefined {
  const d = counterDelta(prev, cur);
  return d === undefined || !(windowS > 0) || !Number.isFinite(windowS) ? undefined : d / windowS;
}

/** The sum of two rates (prompt + generated tokens), or undefined when either is unknown. */
export const addRates = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a + b;

/** The p95 of a histogram's observations in the window, in ms (`unitMs` = ms per histogram unit). */
export function p95Ms(
  prev: HistogramReading | undefined,
  cur: HistogramReading | undefined,
  unitMs = 1000,
): number | undefined {
  const buckets = histogramDelta(prev, cur);
  const v = buckets && histogramQuantile(0.95, buckets);
  return v === undefined ? undefined : v * unitMs;
}

/** Δnumerator / Δdenominator (a mean per event, e.g. Triton's µs per request), or undefined. */
export function meanPer(
  prevNum: CounterReading | undefined,
  curNum: CounterReading | undefined,
  prevDen: CounterReading | undefined,
  curDen: CounterReading | undefined,
): number | undefined {
  const num = counterDelta(prevNum, curNum);
  const den = counterDelta(prevDen, curDen);
  return num === undefined || den === undefined || !(den > 0) ? undefined : num / den;
}
