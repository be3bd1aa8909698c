/**
 * The scoring engine: for one request, filters → weighted scorers → picker over the precomputed
 * endpoint views of its model. The engine, not the plugins, clamps every score to [0,1], applies
 * the profile's weights (per SLO class), times each plugin and explains the decision. Per-decision
 * work is one pass per plugin over plain objects into reused typed arrays.
 */
import { excerpt, MeshError } from '../core/errors.ts';
import { createFleet, type Fleet } from './fleet.ts';
import { createPrefixIndex, PREFIX_BLOCK_TOKENS } from './prefix-index.ts';
import { createPrecisePrefixIndex, type PrecisePrefixIndex } from './precise-prefix-index.ts';
import { compileProfiles, type CompiledProfile } from './compile.ts';
import { BUILTIN_PROFILES, PRECISE_PROFILES, type ProfileSpec } from './profiles.ts';
import { createPluginRegistry, type PluginRegistry } from './registry.ts';
import { pluginTimings, type PluginTiming } from './plugin-timings.ts';
import { selectTop } from './select-top.ts';
import { createServiceRates } from './service-rates.ts';
import { createLocalJournal, type Journal } from './journal/journal.ts';
import { createOutcomeTracker, type RouteTicket } from './outcomes.ts';
import type { RoutingEvent } from './journal/events.ts';
import { predictWaitMs } from './wait-model.ts';
import { createZoneTable, type ZoneLink } from './zones.ts';
import type { Decision, EndpointView, ExplainedTarget, ScoringContext, ScoringRequest } from './types.ts';

export type { RouteTicket } from './outcomes.ts';

export interface ScoringEngineOptions {
  /** Profiles by name, over the built-ins. */
  profiles?: Readonly<Record<string, ProfileSpec>>;
  /** Profile used when a decision names none. Default `default`. */
  profile?: string;
  registry?: PluginRegistry;
  zones?: { nodes?: Readonly<Record<string, string>>; links?: readonly ZoneLink[] };
  /** Prior prefill rates per GPU type (tokens/s). */
  serviceRates?: Readonly<Record<string, number>>;
  prefixBlockTokens?: number;
  prefixCapacityBlocks?: number;
  /**
   * The precise prefix index that profiles with `prefix: 'precise'` match on, fed with the
   * endpoints' KV events by whoever built it (meshd, the benchmark). Given, or with a precise
   * default profile, every route also predicts its prompt's blocks into it. Default: an empty
   * index of the engine's own.
   */
  precisePrefix?: PrecisePrefixIndex;
  /**
   * Context length (tokens) at which a prompt token's attention costs as much as its linear layers;
   * makes long prefills cost what they do (`prefillWork`). Default 16,384 (8B class: FLOP ratio
   * 2·params ÷ (4·layers·d_model) ≈ 30k, halved for attention's lower efficiency).
   */
  attentionKneeTokens?: number;
  /** Candidates kept in an explanation. Default 3. */
  explainTop?: number;
  /**
   * Clock in ms (injectable for virtual time). Default `performance.now`-based wall ms; replicas on
   * several threads must share one clock (`processClockMs`), their journal's events carry its times.
   */
  now?: () => number;
  /**
   * Where the engine's router-side changes go and come back from (`journal/`): the in-process
   * journal by default; a shared journal makes this engine one of the node's replicas.
   */
  journal?: Journal;
  /** Keep every participant's open requests so `abandon` can end them (the node's main thread). */
  trackOpen?: boolean;
  random?: () => number;
}

export interface ScoringEngine {
  readonly fleet: Fleet;
  readonly defaultProfile: string;
  readonly blockTokens: number;
  /** The precise prefix index (feed it the endpoints' block sets: `apply`). */
  readonly precisePrefix: PrecisePrefixIndex;
  /**
   * Ranks and picks a target for `req`. Throws `model_not_found` when no endpoint knows the model
   * and `no_healthy_endpoint` when every one is filtered out. `explain` false leaves `top` empty
   * (the router's hot path needs the pick, not the reasons); a number explains that many of the
   * best (the Scoring RPC's `topK`); true, `explainTop`.
   */
  decide(req: ScoringRequest, profile?: string, explain?: boolean | number): Decision;
  /**
   * The router sent `req` to `target`: counts it at once (in-flight, KV, prefix index, queue).
   * `relayed`: another router sent it and said so (route-relay.ts); counted alike, never told on.
   */
  routed(
    target: EndpointView,
    req: ScoringRequest,
    predictedWaitMs?: number,
    options?: { relayed?: boolean },
  ): RouteTicket;
  /** First token arrived `ttftMs` after sending: learns the service rate, corrects the queue estimate. */
  firstToken(ticket: RouteTicket, ttftMs: number): void;
  /** Withdrawn `elapsedMs` after sending, no first token yet (a hedge race's loser): see `OutcomeTracker.withdrawn`. */
  withdrawn(ticket: RouteTicket, elapsedMs: number): void;
  /** The request ended (any outcome); idempotent. */
  finished(ticket: RouteTicket, outcome: { ok: boolean; e2eMs?: number; ttftMs?: number }): void;
  /**
   * Calls `listener` with the events of this router's own requests (every thread's, as this
   * replica applies them): what route-relay.ts tells the other routers.
   */
  tapRouting(listener: (event: RoutingEvent) => void): () => void;
  predictWaitMs(view: EndpointView): number;
  /** One line per top candidate: `id total = scorer score×weight …`, for logs and `reason`. */
  explain(decision: Decision): string;
  profileNames(): string[];
  timings(): PluginTiming[];
  /** Forgets an endpoint's router-side state (it went away). */
  forget(endpointId: string, model: string): void;
  /**
   * Runs `fn` (a decision and the `routed` it leads to) as one step no other replica's decision
   * interleaves; alone, it just runs `fn`.
   */
  exclusive<T>(fn: () => T): T;
  /** Applies what other replicas have journaled since (reads then see every earlier decision). */
  sync(): void;
  /** Ends, as failures, the open requests of a journal participant that went away (`trackOpen`). */
  abandon(origin: number): void;
}

export function createScoringEngine(options: ScoringEngineOptions = {}): ScoringEngine {
  const now = options.now ?? (() => performance.now());
  const random = options.random ?? Math.random;
  const blockTokens = options.prefixBlockTokens ?? PREFIX_BLOCK_TOKENS;
  const zones = createZoneTable(options.zones?.links ?? []);
  const nodeZones = options.zones?.nodes ?? {};
  const fleet = createFleet((node) => nodeZones[node] ?? '', now);
  const rates = createServiceRates(options.serviceRates);
  const prefixIndex = createPrefixIndex(options.prefixCapacityBlocks);
  const precisePrefix = options.precisePrefix ?? createPrecisePrefixIndex();
  const explainTop = Math.max(1, options.explainTop ?? 3);
  let epoch = 0;
  // One clock read per decision: every plugin sees the same now, and 10k endpoints cost one call.
  let decisionNow = Number.NaN;
  const ctx: ScoringContext = {
    now: () => (Number.isNaN(decisionNow) ? now() : decisionNow),
    random,
    // Read once per candidate per scorer: a field load, not a map lookup (fleet clears the cell).
    serviceRate: (v) => (v.rateCell ??= rates.cell(v.state.gpuType, v.endpointId)).value,
    networkMs: (from, v, bytes) => zones.costMs(from, v.zone, bytes),
    epoch: () => epoch,
    hasZones: (options.zones?.links?.length ?? 0) > 0,
    blockTokens,
    attentionKneeTokens: options.attentionKneeTokens ?? 16_384,
  };
  const specs = { ...BUILTIN_PROFILES, ...PRECISE_PROFILES, ...options.profiles };
  // Profiles whose prefix matches come from the precise index (KV events + recent routes).
  const preciseProfiles = new Set(
    Object.entries(specs)
      .filter(([, spec]) => spec.prefix === 'precise')
      .map(([name]) => name),
  );
  const profiles = compileProfiles(specs, options.registry ?? createPluginRegistry(), { prefixIndex });
  const defaultProfile = options.profile ?? 'default';
  // Routes feed the precise index's predictions when something uses it: a precise default profile,
  // or an index handed in (meshd, fed by KV events). Otherwise routing pays nothing for it.
  const predictRoutes = preciseProfiles.has(defaultProfile) || options.precisePrefix !== undefined;
  if (!profiles.has(defaultProfile)) {
    throw new MeshError('invalid_config', `scoring profile "${defaultProfile}" is not defined`, {
      profiles: [...profiles.keys()],
    });
  }
  const indexTiming = { calls: 0, totalMs: 0 };
  const journal = options.journal ?? createLocalJournal();
  const outcomes = createOutcomeTracker({
    ctx,
    rates,
    prefixIndex,
    fleet,
    journal,
    trackOpen: options.trackOpen,
  });
  journal.attach(outcomes);

  // Scratch buffers, grown on demand and reused by every decision.
  let cap = 0;
  let cands: EndpointView[] = [];
  let totals = new Float64Array(0);
  let raw = new Float64Array(0);
  let perScorer = new Float64Array(0);
  let topIdx = new Int32Array(explainTop);
  let constScores = new Float64Array(8); // per scorer: its constant score this decision, NaN if scored
  const grow = (n: number, scorers: number) => {
    if (n <= cap && perScorer.length >= n * scorers) return;
    cap = Math.max(n, cap * 2, 16);
    cands = new Array<EndpointView>(cap);
    totals = new Float64Array(cap);
    raw = new Float64Array(cap);
    perScorer = new Float64Array(cap * Math.max(1, scorers));
  };

  function decide(
    req: ScoringRequest,
    profileName = defaultProfile,
    explain: boolean | number = true,
  ): Decision {
    journal.catchUp();
    decisionNow = now();
    try {
      return decideNow(req, profileName, explain);
    } finally {
      decisionNow = Number.NaN;
    }
  }

  function decideNow(req: ScoringRequest, profileName: string, explain: boolean | number): Decision {
    const p = profiles.get(profileName);
    if (!p) throw new MeshError('invalid_request', `unknown scoring profile "${profileName}"`);
    const list = fleet.forModel(req.model);
    if (list.length === 0) {
      throw new MeshError('model_not_found', `The model \`${excerpt(req.model)}\` does not exist.`, {
        param: 'model',
      });
    }
    epoch++;
    const ns = p.scorers.length;
    grow(list.length, ns);

    // Exclusions and every filter fused into one pass: each view is read once, and the first
    // filter that drops it ends its checks.
    const tf = performance.now();
    let n = 0;
    const exclude = req.exclude;
    const filters = p.filterPlugins;
    const nf = filters.length;
    outer: for (let i = 0; i < list.length; i++) {
      const v = list[i]!;
      if (exclude !== undefined && exclude.has(v.endpointId)) continue;
      for (let j = 0; j < nf; j++) if (!filters[j]!.keep(v, req, ctx)) continue outer;
      cands[n++] = v;
    }
    p.filterTiming.calls++;
    p.filterTiming.totalMs += performance.now() - tf;
    if (n === 0) {
      throw new MeshError(
        'no_healthy_endpoint',
        `no healthy endpoint serves model \`${excerpt(req.model)}\``,
        {
          endpoints: list.length,
        },
      );
    }

    if (preciseProfiles.has(profileName)) {
      if (req.tokenIds && req.tokenIds.length > 0) {
        const t0 = performance.now();
        precisePrefix.match(cands, n, req.tokenIds, epoch, blockTokens, decisionNow);
        indexTiming.calls++;
        indexTiming.totalMs += performance.now() - t0;
      }
    } else if (req.blockHashes && req.blockHashes.length > 0) {
      const t0 = performance.now();
      prefixIndex.match(req.blockHashes, epoch);
      indexTiming.calls++;
      indexTiming.totalMs += performance.now() - t0;
    }

    const { values: weights, sum: sumW } = p.weights(req.sloClass, req.weights);
    totals.fill(0, 0, n);
    let constTotal = 0;
    if (constScores.length < ns) constScores = new Float64Array(ns * 2);
    for (let k = 0; k < ns; k++) {
      const s = p.scorers[k]!;
      const t0 = performance.now();
      const w = weights[k]!;
      const base = k * n;
      const constant = s.plugin.constant?.(req, ctx);
      if (constant !== undefined) {
        const c = constant > 0 ? (constant < 1 ? constant : 1) : 0;
        constScores[k] = c;
        constTotal += w * c;
        s.calls++;
        s.totalMs += performance.now() - t0;
        continue;
      }
      constScores[k] = Number.NaN;
      s.plugin.score(cands, n, req, ctx, raw);
      for (let i = 0; i < n; i++) {
        const r = raw[i]!;
        const c = r > 0 ? (r < 1 ? r : 1) : 0; // clamps to [0,1]; NaN fails `r > 0` and counts as 0
        perScorer[base + i] = c;
        totals[i] = totals[i]! + w * c;
      }
      s.calls++;
      s.totalMs += performance.now() - t0;
    }

    const t0 = performance.now();
    const chosen = p.picker.plugin.pick(cands, n, totals, req, ctx);
    p.pickerTiming.calls++;
    p.pickerTiming.totalMs += performance.now() - t0;
    const target = cands[chosen] ?? cands[0]!;
    return {
      target,
      score: sumW > 0 ? (totals[chosen]! + constTotal) / sumW : 1,
      predictedWaitMs: predictWaitMs(target, ctx),
      top: explain
        ? explainBest(p, n, chosen, sumW, weights, constTotal, explain === true ? explainTop : explain)
        : [],
      candidates: n,
      profile: profileName,
      ...(explain ? { weights: weightsByName(p, weights) } : {}),
    };
  }

  /** The weights this decision used, by scorer name (an explanation's, so allocated only then). */
  function weightsByName(p: CompiledProfile, weights: Float64Array): Record<string, number> {
    const out: Record<string, number> = {};
    for (let s = 0; s < p.scorers.length; s++) out[p.scorers[s]!.name] = weights[s]!;
    return out;
  }

  /** The best `count` candidates (the chosen one first) with each weighted scorer's score. */
  function explainBest(
    p: CompiledProfile,
    n: number,
    chosen: number,
    sumW: number,
    weights: Float64Array,
    constTotal: number,
    count: number,
  ): ExplainedTarget[] {
    const want = Math.min(count, n);
    if (topIdx.length < want) topIdx = new Int32Array(want);
    const m = selectTop(totals, n, want, topIdx, chosen);
    const out: ExplainedTarget[] = [];
    for (let j = 0; j < m; j++) {
      const i = topIdx[j]!;
      const scores: Record<string, number> = {};
      for (let s = 0; s < p.scorers.length; s++) {
        const c = constScores[s]!;
        if (weights[s]! > 0) scores[p.scorers[s]!.name] = Number.isNaN(c) ? perScorer[s * n + i]! : c;
      }
      out.push({
        endpointId: cands[i]!.endpointId,
        total: sumW > 0 ? (totals[i]! + constTotal) / sumW : 1,
        scores,
      });
    }
    return out;
  }

  return {
    fleet,
    defaultProfile,
    blockTokens,
    precisePrefix,
    decide,
    routed(target, req, wait, options) {
      if (predictRoutes && req.tokenIds && req.tokenIds.length > 0)
        precisePrefix.predict(target.endpointId, req.tokenIds, now());
      return outcomes.routed(target, req, wait ?? predictWaitMs(target, ctx), options?.relayed);
    },
    firstToken: (ticket, ttftMs) => outcomes.firstToken(ticket, ttftMs),
    withdrawn: (ticket, elapsedMs) => outcomes.withdrawn(ticket, elapsedMs),
    finished: (ticket, outcome) => outcomes.finished(ticket, outcome),
    tapRouting: (listener) => outcomes.tap(listener),
    predictWaitMs: (v) => predictWaitMs(v, ctx),
    explain(decision) {
      const p = profiles.get(decision.profile);
      return decision.top
        .map((t) => {
          const parts = Object.entries(t.scores).map(([name, s]) => {
            const w = p?.scorers.find((x) => x.name === name)?.weight ?? 1;
            return `${name} ${s.toFixed(3)}×${w}`;
          });
          return `${t.endpointId} ${t.total.toFixed(3)}${parts.length ? ` = ${parts.join(' + ')}` : ''}`;
        })
        .join('; ');
    },
    profileNames: () => [...profiles.keys()].sort(),
    timings: () => pluginTimings(profiles, indexTiming),
    forget(endpointId, model) {
      const v = fleet.remove(endpointId, model);
      if (v) prefixIndex.drop(v);
    },
    exclusive: (fn) => journal.exclusive(fn),
    sync: () => journal.catchUp(),
    abandon: (origin) => outcomes.abandon(origin),
  };
}
