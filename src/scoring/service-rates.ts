/**
 * Heterogeneous GPU speed, learned from outcomes: a prefill service rate (tokens/s) per GPU type.
 * Starts from a prior per type (config, or a built-in guess for H100/A100) and moves by an EWMA of
 * what each first token shows: the request's prefill work (`prefillWork`, in linear tokens) ÷ (time
 * to first token − the wait the router predicted before it). Clamped to [prior/4, prior×4] so one odd sample cannot run away.
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
  /** The cell that always holds the current estimate for `gpuType` (unknown types use the `default` prior). */
  cell(gpuType: string | undefined): RateCell;
  /** Feeds one outcome: `tokens` prefilled in `serviceMs` on `gpuType`. */
  observe(gpuType: string | undefined, tokens: number, serviceMs: number): void;
}

export function createServiceRates(
  priors: Readonly<Record<string, number>> = {},
  alpha = 0.05,
): ServiceRates {
  const prior = { ...DEFAULT_PRIOR_RATES, ...priors };
  // One cell per normalised GPU type, holding the prior until the first outcome moves it.
  const cells = new Map<string, { value: number }>();
  const keyOf = (t: string | undefined) => (t ? t.toUpperCase() : 'default');
  const priorOf = (k: string) => prior[k] ?? prior.default ?? 20_000;
  const cellOf = (k: string) => {
    let c = cells.get(k);
    if (!c) cells.set(k, (c = { value: priorOf(k) }));
    return c;
  };
  return {
    cell: (gpuType) => cellOf(keyOf(gpuType)),
    observe(gpuType, tokens, serviceMs) {
      if (!(tokens > 256) || !(serviceMs > 0)) return; // short prompts say more about overhead than rate
      const k = keyOf(gpuType);
      const p = priorOf(k);
      const sample = Math.min(p * 4, Math.max(p / 4, (tokens * 1000) / serviceMs));
      const c = cellOf(k);
      c.value += alpha * (sample - c.value);
    },
  };
}
