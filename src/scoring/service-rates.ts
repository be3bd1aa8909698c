/**
 * Heterogeneous GPU speed, learned from outcomes: a prefill service rate (linear tokens/s, see
 * `prefillWork`) per GPU type, or per endpoint when its GPU type is unknown.
 *
 * What a sample is (outcomes.ts builds it). A first token's TTFT is queueing + service; only the
 * service part says how fast the GPU is. Subtracting the router's *predicted* wait (the old way)
 * folds every prediction error into the rate: when waits are underpredicted under load, the
 * "service time" absorbs the queue and the rate collapses to its floor. Instead the service time
 * is measured, not predicted, the way one reads service times off a FCFS queue from arrivals and
 * departures: `first token − max(sent, previous first token at the same endpoint)`. A request
 * sent to an endpoint with none of our prefill ahead is timed from its send; one queued behind
 * our own prefill is timed from the moment the request ahead produced its first token (the engine
 * prefills in arrival order, so from then on it works on this one). Gaps telescope: over a busy
 * period the sum of service times is the span, and the sum of work is what was prefilled in it,
 * so co-scheduled prompts (two in one step, a gap of 0) cost nothing in the sum.
 *
 * How samples are combined. A decayed least-squares fit of time = overhead + work ÷ rate per
 * GPU type: the marginal rate is what distinguishes GPUs whatever prompts each one happens to get
 * (a single tokens/s figure would be lower for a GPU fed short prompts, whose time is mostly fixed
 * step cost), and the fixed overhead joins the predicted wait (wait-model.ts). Each sample weighs
 * its work ÷ 1,024 (a long prompt says more than a short one) times a confidence `c` in [0,1]
 * (1: timed from its own send on an endpoint with none of our prefill ahead; 0.5: timed from a gap;
 * 0: the request may have waited for a batch slot or KV space, which is decode time, not prefill).
 * The overhead is capped at the marginal time of 256 tokens: a larger fixed cost is load (decode
 * steps inside the gaps), not speed. Each sample's time is first clipped to within 4× of what the
 * current fit predicts, so one stall or one garbage report moves the estimate by a bounded step,
 * while repeated evidence still moves it as far as it needs. Old samples decay by `decay^weight`
 * (a window of ~100 full-weight samples at the default 0.99).
 *
 * The prior is two pseudo-samples (512 and 4,096 tokens at the prior rate, no overhead) weighing
 * `priorWork` tokens in all, inside the decayed sums, so it fades as evidence arrives instead of
 * pinning the estimate.
 *
 * The floor is evidence too, never a fixed fraction of the prior: a request's TTFT is at least its
 * service time, so Σ work ÷ Σ TTFT (same decay) is a lower bound of the rate whatever the queue
 * did; and a rate the runtime reports from its own histograms (`runtimeRate`, e.g. vLLM's prefill
 * tokens ÷ `vllm:request_prefill_time_seconds` sum, itself a lower bound because concurrent
 * prefills overlap) is another. The estimate never goes below the larger of the two.
 *
 * Reading a rate is a field load (`cell(...).value`), updated in place on each observation.
 */

/**
 * Prior prefill rates (linear tokens/s) for an 8B-class model (Llama-3-8B: 2 × 8.03e9 ≈ 16.1 GFLOP
 * per token), from measurements independent of the simulator's (Vidur) tables:
 * - Splitwise (Patel et al., ISCA 2024; its public perf model, shared/traces/perf_profiles/
 *   splitwise_sim_perf_model.csv) measured Llama-2-70B prompt phases at TP2, batch 1: 2,048 tokens
 *   in 308 ms on H100-80GB and 687 ms on A100-80GB (4,096: 642 / 1,481 ms), i.e. ~460 and ~206
 *   TFLOP/s delivered per GPU (46% and 66% of the datasheets' 989 and 312 dense BF16 TFLOP/s),
 *   an H100:A100 prefill ratio of ~2.2–2.3. At those delivered rates an 8B model prefills
 *   ~28k (H100) and ~12.5k (A100) tokens/s.
 * - H200: same tensor-core peak as H100 on NVIDIA's datasheet (989 dense BF16 TFLOP/s); prefill is
 *   compute-bound, so the same prior.
 * - L40S (362 dense BF16 TFLOP/s) and L4 (121): datasheet peak × H100's measured 46% → ~10k, ~3.5k.
 * - Unknown GPUs: a neutral prior, the geometric mean of the H100 and A100 priors (~19k), so an
 *   unlabelled fleet starts in the middle and its own outcomes move each estimate (per endpoint).
 * Deliberately not tuned to the simulator (whose H100:A100 ratio is ~3): learning closes the gap.
 */
export const DEFAULT_PRIOR_RATES: Readonly<Record<string, number>> = {
  H100: 28_000,
  H200: 28_000,
  A100: 12_500,
  L40S: 10_000,
  L4: 3_500,
  default: 19_000,
};

/** The live estimate of one GPU type (or endpoint), updated in place: views hold it to read a rate with no lookup. */
export interface RateCell {
  /** Marginal prefill rate, linear tokens/s. */
  readonly value: number;
  /** Fixed time (ms) every prefill takes on top of `work / value` (step overhead, small-batch inefficiency). */
  readonly overheadMs: number;
}

/** One first token, as the estimator learns from it (outcomes.ts derives it from events). */
export interface RateSample {
  /** Prefill work in linear tokens (`prefillWork`). */
  work: number;
  /** Measured service time (ms): first token − max(sent, previous first token at the endpoint). */
  serviceMs: number;
  /** The request's whole time to first token (ms): an upper bound of its service time. */
  ttftMs: number;
  /** Confidence in `serviceMs`, 0..1 (0: only the TTFT bound is used). */
  confidence: number;
  /** A lower bound of the rate the runtime's own metrics report (tokens/s); NaN when none. */
  runtimeRate: number;
}

export interface ServiceRates {
  /**
   * The cell that always holds the current estimate for `gpuType`. Unknown types read the shared
   * `default` cell, or, given `endpointId`, the endpoint's own (so an unlabelled mixed fleet still
   * tells a fast GPU from a slow one).
   */
  cell(gpuType: string | undefined, endpointId?: string): RateCell;
  /** Feeds one outcome of `gpuType` (or, unknown, of `endpointId` and the shared default). */
  observe(gpuType: string | undefined, endpointId: string | undefined, sample: RateSample): void;
  /** The current lower bound of `gpuType`'s rate (tokens/s; 0 before evidence). */
  floor(gpuType: string | undefined, endpointId?: string): number;
}

export interface ServiceRateOptions {
  /** Decay of old evidence per full-weight sample (1,024 tokens at confidence 1). Default 0.99. */
  decay?: number;
  /** Weight of the prior, in tokens of work at the prior rate (a sample weighs 1). Default 4,000. */
  priorWork?: number;
  /** Samples with less work than this are ignored (their time is mostly overhead). Default 32. */
  minWork?: number;
}

/** How far (×) one sample's time may sit from the current estimate's prediction before it is clipped. */
const CLIP = 4;

interface Cell {
  /** Marginal rate (tokens/s) and fixed time per request (ms): a prefill takes `overheadMs + work / value`. */
  value: number;
  overheadMs: number;
  /** Decayed, confidence-weighted sums of the least-squares fit of time on work, the prior included. */
  n: number;
  w: number;
  ww: number;
  t: number;
  wt: number;
  /** Decayed Σ work and Σ ttftMs (the TTFT lower bound), no prior. */
  boundWork: number;
  boundMs: number;
  boundN: number;
  runtimeFloor: number;
  floor: number;
}

/** Work (tokens) that makes one sample of full weight: longer prompts weigh more, shorter less. */
const WORK_UNIT = 1024;

/** Samples (decayed) the TTFT bound needs before it acts as a floor. */
const MIN_BOUND_SAMPLES = 4;

/** The fixed cost per prefill is capped at the marginal time of this much work (tokens). */
const MAX_OVERHEAD_WORK = 256;

/** Works (tokens) of the prior's two pseudo-samples: they pin the slope, not the intercept. */
const PRIOR_POINTS = [512, 4096] as const;

export function createServiceRates(
  priors: Readonly<Record<string, number>> = {},
  options: ServiceRateOptions = {},
): ServiceRates {
  const prior: Record<string, number> = {};
  for (const [k, v] of Object.entries({ ...DEFAULT_PRIOR_RATES, ...priors })) prior[k.toUpperCase()] = v;
  const decay = options.decay ?? 0.99;
  const priorWork = options.priorWork ?? 4_000;
  const minWork = options.minWork ?? 32;
  const cells = new Map<string, Cell>();
  const priorOf = (k: string) => prior[k] ?? prior.DEFAULT ?? 19_000;
  const keyOf = (t: string | undefined, endpointId: string | undefined) =>
    t ? t.toUpperCase() : endpointId !== undefined ? `@${endpointId}` : 'DEFAULT';
  const cellOf = (k: string, p: number) => {
    let c = cells.get(k);
    if (!c) {
      c = {
        value: p,
        overheadMs: 0,
        n: 0,
        w: 0,
        ww: 0,
        t: 0,
        wt: 0,
        boundWork: 0,
        boundMs: 0,
        boundN: 0,
        runtimeFloor: 0,
        floor: 0,
      };
      // The prior: two points on the line t = work / prior, together as heavy as `priorWork` tokens.
      for (const w of PRIOR_POINTS) add(c, w, (w * 1000) / p, priorWork / WORK_UNIT / PRIOR_POINTS.length);
      cells.set(k, c);
    }
    return c;
  };
  const cellFor = (t: string | undefined, endpointId: string | undefined) => {
    const k = keyOf(t, endpointId);
    return cellOf(k, priorOf(t ? k : 'DEFAULT'));
  };

  function add(c: Cell, w: number, t: number, weight: number): void {
    c.n += weight;
    c.w += weight * w;
    c.ww += weight * w * w;
    c.t += weight * t;
    c.wt += weight * w * t;
  }

  /** Least squares of time on work; a line through the origin (ratio of sums) when the fit is ill-posed or says a < 0. */
  function fit(c: Cell): void {
    const det = c.n * c.ww - c.w * c.w;
    let slope = Number.NaN;
    let intercept = 0;
    if (det > 1e-9 * c.n * c.ww) {
      slope = (c.n * c.wt - c.w * c.t) / det;
      intercept = (c.t - slope * c.w) / c.n;
    }
    if (!(slope > 0) || !(intercept >= 0)) {
      slope = c.t / c.w;
      intercept = 0;
    } else if (intercept > slope * MAX_OVERHEAD_WORK) {
      // A fixed cost above a short prompt's whole prefill is load (decode steps in the gaps), not GPU speed.
      intercept = slope * MAX_OVERHEAD_WORK;
      slope = (c.wt - intercept * c.w) / c.ww;
    }
    const rate = 1000 / slope;
    // The TTFT bound counts once a few samples back it, and lifts the fit at most CLIP× (a fake or
    // cached backend's near-zero TTFTs must not make a GPU look infinitely fast).
    const bound = c.boundN >= MIN_BOUND_SAMPLES ? Math.min((c.boundWork * 1000) / c.boundMs, rate * CLIP) : 0;
    c.floor = Math.max(bound, c.runtimeFloor);
    c.overheadMs = rate > c.floor ? intercept : 0;
    c.value = Math.max(c.floor, rate);
  }

  function learn(c: Cell, s: RateSample): void {
    if (s.runtimeRate > 0 && Number.isFinite(s.runtimeRate)) c.runtimeFloor = s.runtimeRate;
    const usable = s.work >= minWork && Number.isFinite(s.work);
    if (usable && s.ttftMs > 0 && Number.isFinite(s.ttftMs)) {
      c.boundWork = c.boundWork * decay + s.work;
      c.boundMs = c.boundMs * decay + s.ttftMs;
      c.boundN = c.boundN * decay + 1;
    }
    const conf = s.confidence > 1 ? 1 : s.confidence;
    if (conf > 0 && usable && s.serviceMs >= 0 && Number.isFinite(s.serviceMs)) {
      const expected = c.overheadMs + (s.work * 1000) / c.value;
      const t = Math.min(expected * CLIP, Math.max(expected / CLIP, s.serviceMs));
      const d = Math.pow(decay, (conf * s.work) / WORK_UNIT);
      c.n *= d;
      c.w *= d;
      c.ww *= d;
      c.t *= d;
      c.wt *= d;
      add(c, s.work, t, (conf * s.work) / WORK_UNIT);
    }
    fit(c);
  }

  return {
    cell: cellFor,
    observe(gpuType, endpointId, sample) {
      if (!(sample.work >= 0) || !(sample.ttftMs >= 0)) return; // NaN or negative: garbage
      learn(cellFor(gpuType, endpointId), sample);
      // An unknown GPU also teaches the shared default, read by callers that name no endpoint.
      if (!gpuType && endpointId !== undefined) learn(cellOf('DEFAULT', priorOf('DEFAULT')), sample);
    },
    floor: (gpuType, endpointId) => cellFor(gpuType, endpointId).floor,
  };
}
