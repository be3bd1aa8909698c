/**
 * Hedging policy: when a request's first token (a whole answer, when it is not streamed) is late,
 * a second copy goes to the next-best endpoint (`hedge-race.ts` runs the race). This module says
 * how late is late — the budget, from the TTFT predicted for the request, the recent TTFT p95 or a
 * fixed value, per SLO class —
 * and whether a hedge may be sent now: a token bucket caps hedges at `maxExtraPercent` of
 * requests, and a next-best endpoint that is itself queued (the fleet is saturated) gets none.
 */
import type { HedgingConfig } from '../core/config.ts';
import type { SloClass } from '../scoring/types.ts';
import type { Route, RouteCandidate } from './route-decider.ts';

/** Why a due hedge was not sent (the `reason` label of `infermesh_router_hedges_suppressed_total`). */
export type HedgeSuppression = 'cap' | 'saturated' | 'overloaded' | 'no_candidate';

/** The hedging settings of one SLO class, overrides applied. */
export interface HedgeClassPolicy {
  enabled: boolean;
  budget: 'predicted' | 'p95' | 'fixed';
  predictedMultiplier: number;
  p95Multiplier: number;
  fixedBudgetMs: number;
  minBudgetMs: number;
  maxBudgetMs: number;
}

export interface Hedging {
  /**
   * How long to wait for `route`'s first token (`stream`) or answer before hedging, in ms, or
   * undefined when requests of this class are not hedged. Counts the request for the extra-load cap.
   */
  budgetMs(
    route: Route,
    request: {
      model: string;
      stream: boolean;
      sloClass?: SloClass;
      promptTokens?: number;
      /** The class's settings for this request when an SLO policy changed them (`slo-rules.ts`). */
      policy?: HedgeClassPolicy;
    },
  ): number | undefined;
  /** A first token of `model` reached the router `ms` after its attempt was sent. */
  observeFirstToken(model: string, ms: number, promptTokens: number): void;
  /** Takes one hedge from the extra-load cap; false when the cap is spent. */
  take(): boolean;
  /** Gives back a hedge taken but not sent (no fit endpoint). */
  refund(): void;
  /** Whether the next-best endpoint is fit for a hedge (not saturated). */
  accepts(candidate: RouteCandidate): boolean;
}

/**
 * The hedging settings of `sloClass`: `router.hedging` overridden by its `sloClasses.<class>`, then
 * by `override` knob by knob (an SLO policy's `hedging`); `capMs` (the policy's TTFT budget) caps
 * the budget whatever the mode, so a request with no first token by then is hedged.
 */
export function hedgeClassPolicy(
  config: HedgingConfig,
  sloClass: SloClass,
  override?: Partial<HedgeClassPolicy>,
  capMs?: number,
): HedgeClassPolicy {
  const o = { ...config.sloClasses[sloClass], ...definedOf(override) };
  const p: HedgeClassPolicy = {
    enabled: o.enabled ?? config.enabled,
    budget: o.budget ?? config.budget,
    predictedMultiplier: o.predictedMultiplier ?? config.predictedMultiplier,
    p95Multiplier: o.p95Multiplier ?? config.p95Multiplier,
    fixedBudgetMs: o.fixedBudgetMs ?? config.fixedBudgetMs,
    minBudgetMs: o.minBudgetMs ?? config.minBudgetMs,
    maxBudgetMs: o.maxBudgetMs ?? config.maxBudgetMs,
  };
  if (capMs !== undefined && capMs > 0) {
    p.maxBudgetMs = Math.min(p.maxBudgetMs, capMs);
    p.fixedBudgetMs = Math.min(p.fixedBudgetMs, capMs);
  }
  return p;
}

/** `o` without its undefined fields, so a spread keeps the value underneath them. */
function definedOf<T extends object>(o: T | undefined): Partial<T> {
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Hedging as `config` (`router.hedging`) says; undefined without a config. With every class off
 * it still answers (undefined budgets), since an SLO policy may turn a class on (`policy` of
 * `budgetMs`).
 */
export function createHedging(config: HedgingConfig | undefined): Hedging | undefined {
  if (!config) return undefined;
  // A request without a class is latency traffic, as admission treats it.
  const classes = {
    latency: hedgeClassPolicy(config, 'latency'),
    throughput: hedgeClassPolicy(config, 'throughput'),
  };
  const bucket = createTokenBucket(config.maxExtraPercent / 100, config.burst);
  const windows = new Map<string, TtftWindow>();

  return {
    budgetMs(route, { model, stream, sloClass, promptTokens = 0, policy }) {
      const p = policy ?? classes[sloClass ?? 'latency'];
      if (!p.enabled) return undefined;
      bucket.refill();
      if (p.budget === 'fixed') return p.fixedBudgetMs;
      // `predicted`: this request's own predicted TTFT there, so a target that turned slow since
      // the router learned its speed is late after a few multiples of what it should take.
      // `p95` (and `predicted` with no prediction): the p95 of the model's recent first tokens
      // over the fleet for a prompt of this size (a straggler's own slow samples are a few among
      // many), until enough are seen the engine's TTFT p95 of the target. A whole answer (no
      // first token is visible): the target's mean end-to-end time.
      let base: number;
      let multiplier = p.p95Multiplier;
      if (!stream) base = route.e2eMs;
      else if (p.budget === 'predicted' && route.predictedTtftMs > 0) {
        base = route.predictedTtftMs;
        multiplier = p.predictedMultiplier;
      } else base = windows.get(model)?.p95(promptTokens) ?? route.ttftP95Ms;
      const ms = Number.isFinite(base) && base > 0 ? base * multiplier : p.fixedBudgetMs;
      return Math.round(Math.min(p.maxBudgetMs, Math.max(p.minBudgetMs, ms)));
    },
    observeFirstToken(model, ms, promptTokens) {
      let w = windows.get(model);
      if (!w) windows.set(model, (w = createTtftWindow()));
      w.observe(ms, promptTokens);
    },
    take: () => bucket.take(),
    refund: () => bucket.refund(),
    accepts: (c) => c.queueDepth < config.saturatedQueueDepth && c.predictedWaitMs <= config.saturatedWaitMs,
  };
}

/** Prompt tokens that count as one size unit: TTFT is compared per (1 + prompt / unit). */
const SIZE_UNIT_TOKENS = 1024;
const sizeOf = (promptTokens: number) => 1 + Math.max(0, promptTokens) / SIZE_UNIT_TOKENS;

/** The last first-token times of a model, normalised by prompt size; p95 once enough are seen. */
export interface TtftWindow {
  observe(ms: number, promptTokens: number): void;
  /** p95 TTFT (ms) expected for a prompt of `promptTokens`; undefined before `minSamples`. */
  p95(promptTokens: number): number | undefined;
}

export function createTtftWindow(size = 512, minSamples = 20): TtftWindow {
  const ring = new Float64Array(size);
  let n = 0;
  let cached = Number.NaN;
  let stale = true;
  return {
    observe(ms, promptTokens) {
      ring[n % size] = ms / sizeOf(promptTokens);
      n++;
      // Re-sorting a full window costs microseconds; every 16 samples keeps it off the hot path.
      if (n < minSamples + 16 || n % 16 === 0) stale = true;
    },
    p95(promptTokens) {
      if (n < minSamples) return undefined;
      if (stale) {
        const sorted = ring.slice(0, Math.min(n, size)).sort();
        cached = sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)] ?? Number.NaN;
        stale = false;
      }
      return cached * sizeOf(promptTokens);
    },
  };
}

/**
 * Each request adds `rate` tokens (up to `burst`); a hedge spends one. Over any run of n requests
 * at most `burst + rate·n` hedges go out, so extra load stays near `rate` however bursty the
 * lateness. It starts full.
 */
export function createTokenBucket(
  rate: number,
  burst: number,
): { refill(): void; take(): boolean; refund(): void } {
  let tokens = burst;
  return {
    refill() {
      tokens = Math.min(burst, tokens + rate);
    },
    take() {
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
    refund() {
      tokens = Math.min(burst, tokens + 1);
    },
  };
}
