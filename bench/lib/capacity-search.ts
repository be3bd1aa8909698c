/**
 * A bounded search for the highest rate at which a probe still passes (e.g. a baseline still meets
 * the SLO): bracket from a first guess by doubling or halving, then bisect on a log scale. The
 * probe is assumed monotone (passes below some rate, fails above); every probe is recorded.
 */

export interface CapacitySearchOptions {
  /** First rate tried (e.g. a mean-throughput estimate). */
  initial: number;
  /** Bisection steps after the bracket is found. Default 5 (bracket narrowed 32× on a log scale). */
  steps?: number;
  /** Most doublings/halvings to find the bracket. Default 6. */
  maxBracket?: number;
}

export interface CapacitySearchResult {
  /** Highest rate that passed (the lower end of the final bracket); NaN when none passed. */
  rate: number;
  /** Lowest rate that failed; Infinity when none failed. */
  failedAt: number;
  probes: { rate: number; pass: boolean }[];
}

export function searchCapacity(
  probe: (rate: number) => boolean,
  o: CapacitySearchOptions,
): CapacitySearchResult {
  const probes: { rate: number; pass: boolean }[] = [];
  const test = (rate: number) => {
    const pass = probe(rate);
    probes.push({ rate, pass });
    return pass;
  };
  let lo = NaN;
  let hi = Infinity;
  const maxBracket = o.maxBracket ?? 6;
  if (test(o.initial)) {
    lo = o.initial;
    for (let i = 0; i < maxBracket; i++) {
      const r = lo * 2;
      if (test(r)) lo = r;
      else {
        hi = r;
        break;
      }
    }
  } else {
    hi = o.initial;
    for (let i = 0; i < maxBracket; i++) {
      const r = hi / 2;
      if (test(r)) {
        lo = r;
        break;
      }
      hi = r;
    }
  }
  if (Number.isFinite(lo) && Number.isFinite(hi)) {
    for (let i = 0; i < (o.steps ?? 5); i++) {
      const mid = Math.sqrt(lo * hi);
      if (test(mid)) lo = mid;
      else hi = mid;
    }
  }
  return { rate: lo, failedAt: hi, probes };
}
