/**
 * Heterogeneous GPU speed, learned from outcomes: a prefill service rate (tokens/s) per GPU type.
 * Starts from a prior per type (config, or a built-in guess for H100/A100) and moves by an EWMA of
 * what each finished request shows: uncached prompt tokens ÷ (time to first token − the wait the
 * router predicted before it). Clamped to [prior/4, prior×4] so one odd sample cannot run away.
 */

/** Prior prefill rates (tokens/s) for an 8B-class model, from shared/traces (Vidur) numbers. */
export const DEFAULT_PRIOR_RATES: Readonly<Record<string, number>> = {
  H100: 40_000,
  H200: 48_000,
  A100: 14_000,
  L40S: 12_000,
  default: 20_000,
};

/** The live estimate of one GPU type, updated in place: views hold it to read a rate with no lookup. */
export interface RateCell {
  readonly value: number;
}

export interface ServiceRates {
  /** Current estimate for `gpuType` (unknown types use the `default` prior). */
  rate(gpuType: string | undefined): number;
  /** The cell that always holds `rate(gpuType)`. */
  cell(gpuType: string | undefined): RateCell;
  /** Feeds one outcome: `tokens` prefilled in `serviceMs` on `gpuType`. */
  observe(gpuType: string | undefined, tokens: number, serviceMs: number): void;
  snapshot(): Record<string, number>;
}

export function createServiceRates(
  priors: Readonly<Record<string, number>> = {},
  alpha = 0.05,
): ServiceRates {
  const prior = { ...DEFAULT_PRIOR_RATES, ...priors };
  const learned = new Map<string, number>();
  const cells = new Map<string, { value: number }>();
  // Normalised keys memoised per raw label: rate() runs once per candidate per decision.
  const keys = new Map<string, string>();
  const keyOf = (t: string | undefined) => {
    if (!t) return 'default';
    let k = keys.get(t);
    if (k === undefined) keys.set(t, (k = t.toUpperCase()));
    return k;
  };
  const priorOf = (k: string) => prior[k] ?? prior.default ?? 20_000;
  return {
    rate(gpuType) {
      const k = keyOf(gpuType);
      return learned.get(k) ?? priorOf(k);
    },
    cell(gpuType) {
      const k = keyOf(gpuType);
      let c = cells.get(k);
      if (!c) cells.set(k, (c = { value: learned.get(k) ?? priorOf(k) }));
      return c;
    },
    observe(gpuType, tokens, serviceMs) {
      if (!(tokens > 256) || !(serviceMs > 0)) return; // short prompts say more about overhead than rate
      const k = keyOf(gpuType);
      const p = priorOf(k);
      const sample = Math.min(p * 4, Math.max(p / 4, (tokens * 1000) / serviceMs));
      const cur = learned.get(k) ?? p;
      const next = cur + alpha * (sample - cur);
      learned.set(k, next);
      const c = cells.get(k);
      if (c) c.value = next;
    },
    snapshot() {
      const out: Record<string, number> = {};
      for (const k of new Set([...Object.keys(prior), ...learned.keys()]))
        out[k] = learned.get(k) ?? priorOf(k);
      return out;
    },
  };
}
