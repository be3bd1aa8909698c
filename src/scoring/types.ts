/**
 * The scoring engine's vocabulary: what a request looks like to scoring, the precomputed view of
 * one endpoint, the three plugin interfaces (filter, scorer, picker) and a decision with its
 * explanation. Plugins read views and write numbers; the engine owns clamping, weights and timing.
 */
import type { ModelState, Protocol } from '../core/types.ts';
import type { GpuState } from '../core/gpu.ts';
import type { PrefixIndex } from './prefix-index.ts';
import type { RateCell } from './service-rates.ts';

/** Latency-sensitive or throughput (batch) traffic; a profile may weight the two differently. */
export type SloClass = 'latency' | 'throughput';

/** Weight overrides by scorer name. */
export type ScorerWeights = Readonly<Record<string, number>>;

/** What scoring knows about one request. Everything but `model` is optional. */
export interface ScoringRequest {
  model: string;
  /** Estimated prompt tokens (src/core/tokens.ts rule). */
  promptTokens?: number;
  /** Expected output tokens (`max_tokens`, or a default). */
  maxTokens?: number;
  /** Chained hashes of the prompt's token blocks (see `prefixBlockHashes`). */
  blockHashes?: ArrayLike<number>;
  /** The prompt's token ids (the mesh's token rule), for profiles matching the precise prefix index. */
  tokenIds?: ArrayLike<number>;
  sloClass?: SloClass;
  /** LoRA adapter requested, if any. */
  lora?: string;
  /** Zone the request entered the mesh in (network cost). */
  zone?: string;
  /** MIG profile the request needs, e.g. `3g.40gb`. */
  migProfile?: string;
  /** The request's latency budget; admission compares the predicted wait with it. */
  timeoutMs?: number;
  /**
   * Longest predicted wait admitted for the request's class, when an SLO policy sets one; absent:
   * the admission policy's for the class.
   */
  maxWaitMs?: number;
  /**
   * Scorer weights by scorer name over the profile's for the request's class (an SLO policy's
   * `weights`; names the profile lacks are ignored). Keep one object per rule: the engine compiles
   * each object once and finds it again by identity.
   */
  weights?: ScorerWeights;
  /** Client protocol; only endpoints speaking it qualify (the `protocol` filter). */
  protocol?: Protocol;
  /** Endpoint ids not to pick (already tried). */
  exclude?: ReadonlySet<string>;
  /**
   * The answer streams, so its first token will be reported (a whole answer's never is): only for
   * these can the engine tell that a prefill is overdue (`EndpointView.awaitingFirst`).
   */
  stream?: boolean;
  requestId?: string;
}

/**
 * One endpoint as scoring sees it: the latest `ModelState`, its GPU, and what only the router
 * knows (its own in-flight work, updated at once). Kept and mutated in place by the fleet view, so
 * a decision reads plain fields and allocates nothing per endpoint.
 */
export interface EndpointView {
  /** Dense index in the fleet, stable while the endpoint exists. */
  readonly index: number;
  readonly endpointId: string;
  state: ModelState;
  gpu?: GpuState;
  /** Zone of the endpoint's node ('' when unknown). */
  zone: string;
  /**
   * Requests the router sent and that have not finished, and, with active-active routers, those
   * the others told it of (src/scoring/route-relay.ts).
   */
  inFlight: number;
  /** Prompt + expected output tokens of those requests (KV the router expects them to hold). */
  inFlightTokens: number;
  /** Sim/real ms at which the prefill work of those requests is predicted to drain. */
  busyUntilMs: number;
  /**
   * Streamed requests the router sent that have neither a first token nor an end yet. With some
   * left after `busyUntilMs` has passed, the endpoint is behind its predicted schedule (a
   * throttled or stalled GPU), which the wait model reads before any slow first token arrives.
   */
  awaitingFirst: number;
  /** Engine clock (ms) when `state` last arrived: the queue it reports has been draining since. */
  stateAt: number;
  /** Recent p95 time to first token (ms) the router observed itself; NaN until outcomes arrive. */
  observedP95Ms: number;
  /** Moving average of end-to-end latency (ms), how long a batch slot stays taken; NaN until known. */
  e2eMs: number;
  /** Leading prompt blocks the router's prefix index has seen on this endpoint, for `prefixEpoch`. */
  prefixMatch: number;
  prefixEpoch: number;
  /** Blocks the router's prefix index holds for this endpoint. */
  prefixBlocks: number;
  /** Most requests the endpoint runs at once, when known (0 = unknown). */
  maxBatch: number;
  /** KV capacity in tokens, when known (0 = unknown). */
  kvTokens: number;
  /** The engine's service-rate cell for this GPU type; cleared on every state refresh. */
  rateCell: RateCell | undefined;
}

/** Shared, read-mostly context handed to plugins on every call. */
export interface ScoringContext {
  /** Now, on the engine's clock (ms). */
  now(): number;
  random(): number;
  /** Learned prefill service rate (tokens/s) for the endpoint's GPU type. */
  serviceRate(view: EndpointView): number;
  /** Network cost (RTT + transfer of `payloadBytes`) from `fromZone` to the endpoint's zone, ms; 0 when same or unknown. */
  networkMs(fromZone: string | undefined, view: EndpointView, payloadBytes: number): number;
  /** Current decision epoch (increments per decision); prefix matches are valid for this epoch. */
  epoch(): number;
  /** Whether a zone table is configured (network cost is 0 everywhere otherwise). */
  readonly hasZones: boolean;
  /** Tokens per block of the router's prefix index. */
  readonly blockTokens: number;
  /** Context length at which attention costs as much as the linear layers per token (`prefillWork`). */
  readonly attentionKneeTokens: number;
}

/** Keeps or drops an endpoint. Must be pure and cheap. */
export interface Filter {
  readonly name: string;
  keep(view: EndpointView, req: ScoringRequest, ctx: ScoringContext): boolean;
}

/**
 * Writes a raw score per candidate into `out[0..n)`; higher is better. The engine clamps to [0,1]
 * (NaN counts as 0) and applies the weight. A scorer may look across all candidates (normalise).
 */
export interface Scorer {
  readonly name: string;
  score(
    cands: readonly EndpointView[],
    n: number,
    req: ScoringRequest,
    ctx: ScoringContext,
    out: Float64Array,
  ): void;
  /**
   * When the scorer would give every candidate the same score for `req` (its input is absent, e.g.
   * no LoRA asked, no zone table), that score; the engine then skips the pass over candidates. A
   * constant cannot change a ranking, so it is added to the reported totals, not to the picker's.
   */
  constant?(req: ScoringRequest, ctx: ScoringContext): number | undefined;
}

/** Chooses one candidate index from the weighted totals. */
export interface Picker {
  readonly name: string;
  pick(
    cands: readonly EndpointView[],
    n: number,
    totals: Float64Array,
    req: ScoringRequest,
    ctx: ScoringContext,
  ): number;
}

/** Factories the registry holds, keyed by plugin type name; `params` come from the profile. */
export type FilterFactory = (params: Record<string, unknown>, deps: PluginDeps) => Filter;
export type ScorerFactory = (params: Record<string, unknown>, deps: PluginDeps) => Scorer;
export type PickerFactory = (params: Record<string, unknown>, deps: PluginDeps) => Picker;

/** Engine-owned helpers some plugins need (the prefix index). */
export interface PluginDeps {
  prefixIndex: PrefixIndex;
}

/** One candidate in an explanation: its total and each scorer's clamped score. */
export interface ExplainedTarget {
  endpointId: string;
  total: number;
  scores: Record<string, number>;
}

/** The answer of one decision. */
export interface Decision {
  target: EndpointView;
  /** Weighted total of the chosen target, normalised to [0,1] by the sum of weights. */
  score: number;
  /** Predicted wait before the request's prefill starts at the target (ms). */
  predictedWaitMs: number;
  /** The best candidates (by total) with per-scorer scores, best first. */
  top: ExplainedTarget[];
  /** Candidates that passed the filters. */
  candidates: number;
  profile: string;
  /** The scorer weights used, by scorer name (for this request's class); explained decisions only. */
  weights?: Record<string, number>;
}
