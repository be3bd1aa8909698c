/**
 * Per-endpoint memory of the previous vLLM scrape, turning cumulative counters and histograms into
 * rates and p95s over the window between two successful scrapes (reset rule: see ../window.ts).
 */
import { counterDelta, histogramDelta, histogramQuantile, type HistogramReading } from '../window.ts';
import type { VllmModelReadings, VllmSnapshot } from './extract.ts';

/** Window-derived signals of one model. Absent = unknown for this window (first scrape, reset, idle). */
export interface VllmDerived {
  /** Finished requests (every `finished_reason`) per second. */
  requestRate?: number;
  /** Prompt + generation tokens per second. */
  tokenRate?: number;
  /** Δhits / Δqueries (tokens), 0..1; V0's hit-rate gauge when no counters are exposed. */
  prefixCacheHitRate?: number;
  ttftP95Ms?: number;
  e2eP95Ms?: number;
  /** Inter-token latency p95; computed for when ModelState grows a field for it. */
  itlP95Ms?: number;
}

export interface VllmTracker {
  /** Folds in a successful scrape taken at `now` (Unix ms) and returns each model's derived signals. */
  update(snapshot: VllmSnapshot, now: number): Map<string, VllmDerived>;
}

export interface VllmTrackerOptions {
  /**
   * A window shorter than this (two scrapes back to back) would turn one request into a huge rate:
   * the previous derived values are returned and the baseline is kept. Default 200 ms.
   */
  minWindowMs?: number;
}

const p95Ms = (prev: HistogramReading | undefined, cur: HistogramReading | undefined) => {
  const buckets = histogramDelta(prev, cur);
  const seconds = buckets && histogramQuantile(0.95, buckets);
  return seconds === undefined ? undefined : seconds * 1000;
};

function derive(prev: VllmModelReadings | undefined, cur: VllmModelReadings, windowS: number): VllmDerived {
  const out: VllmDerived = {};
  const set = <K extends keyof VllmDerived>(key: K, value: number | undefined) => {
    if (value !== undefined && Number.isFinite(value)) out[key] = value;
  };
  if (cur.prefixHitRateV0 !== undefined) set('prefixCacheHitRate', cur.prefixHitRateV0);
  if (!prev) return out;
  const requests = counterDelta(prev.requests, cur.requests);
  set('requestRate', requests === undefined ? undefined : requests / windowS);
  const prompt = counterDelta(prev.promptTokens, cur.promptTokens);
  const generated = counterDelta(prev.generationTokens, cur.generationTokens);
  set(
    'tokenRate',
    prompt === undefined || generated === undefined ? undefined : (prompt + generated) / windowS,
  );
  const hits = counterDelta(prev.prefixHits, cur.prefixHits);
  const queries = counterDelta(prev.prefixQueries, cur.prefixQueries);
  if (hits !== undefined && queries !== undefined && queries > 0)
    set('prefixCacheHitRate', Math.min(1, Math.max(0, hits / queries)));
  set('ttftP95Ms', p95Ms(prev.ttft, cur.ttft));
  set('e2eP95Ms', p95Ms(prev.e2e, cur.e2e));
  set('itlP95Ms', p95Ms(prev.itl, cur.itl));
  return out;
}

/** A tracker for one endpoint. Feed it successful scrapes only; a failed one simply widens the next window. */
export function createVllmTracker(options: VllmTrackerOptions = {}): VllmTracker {
  const minWindowMs = options.minWindowMs ?? 200;
  let previous: { at: number; snapshot: VllmSnapshot } | undefined;
  let lastDerived = new Map<string, VllmDerived>();

  return {
    update(snapshot, now) {
      const windowMs = previous ? now - previous.at : Infinity;
      if (previous && windowMs < minWindowMs) {
        return new Map([...snapshot.models.keys()].map((model) => [model, lastDerived.get(model) ?? {}]));
      }
      const derived = new Map<string, VllmDerived>();
      for (const [model, readings] of snapshot.models) {
        derived.set(model, derive(previous?.snapshot.models.get(model), readings, windowMs / 1000));
      }
      previous = { at: now, snapshot };
      lastDerived = derived;
      return derived;
    },
  };
}
