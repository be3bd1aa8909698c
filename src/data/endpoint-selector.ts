/**
 * The router's endpoint choice, made by the scoring engine in-process (src/scoring): filters →
 * weighted scorers → picker over views the store keeps fresh, plus what only the router knows — its
 * own in-flight requests and tokens, counted at the moment of the pick, so a burst does not pile
 * onto one endpoint whose scraped metrics still look idle. Admission runs on the chosen target:
 * a predicted wait over the request's budget is refused with `rate_limited` (429 + Retry-After).
 */
import { excerpt, MeshError } from '../core/errors.ts';
import type { ModelState, Protocol } from '../core/types.ts';
import { createScoringEngine, type RouteTicket, type ScoringEngine } from '../scoring/engine.ts';
import { syncEngineWithStore } from '../scoring/store-sync.ts';
import type { StateStore } from '../signal/state/state-store.ts';
import { admissionError, admit, DEFAULT_ADMISSION, type AdmissionPolicy } from '../scoring/admission.ts';
import type { EndpointGate } from './endpoint-gate.ts';
import {
  describeDecision,
  WATCHED_CANDIDATES,
  watchedLease,
  type DecisionRecorder,
  type PickFacts,
} from './decision-recorder.ts';
import { startPickTrace, tracedPick, type PickTrace } from './pick-tracing.ts';
import type { PickHints } from './request-hints.ts';
import type { Route, RouteCandidate, RouteDecider, RouteLease } from './route-decider.ts';

export type { Route, RouteCandidate, RouteLease } from './route-decider.ts';

/** The in-process decider: the scoring engine in this thread, answering at once. */
export interface EndpointSelector extends RouteDecider {
  pick(
    model: string,
    exclude?: ReadonlySet<string>,
    protocol?: Protocol,
    hints?: PickHints,
    accept?: (candidate: RouteCandidate) => boolean,
  ): Route;
  /** Requests in flight to `endpointId`, over all its models. */
  inFlight(endpointId: string): number;
  /** In-flight requests per endpoint id, for the `infermesh_router_in_flight_requests` gauge. */
  inFlightByEndpoint(): Map<string, number>;
  /** Every model some endpoint knows, routable or not, sorted. */
  knownModels(): string[];
}

/** Stale state (one failed scrape) is still routable; unhealthy or unloaded is not. */
const isRoutable = (s: ModelState): boolean => s.loaded && s.health !== 'unhealthy';

/** Whether an endpoint serves its model over `protocol`; a record without `protocols` speaks OpenAI only. */
const speaks = (s: ModelState, protocol: Protocol): boolean => (s.protocols ?? ['openai']).includes(protocol);

export interface EndpointSelectorOptions {
  /**
   * The engine to decide with, already following `store` (meshd's one engine, shared with the
   * Scoring service). Without it the selector makes a default-profile engine and syncs it itself.
   */
  engine?: ScoringEngine;
  random?: () => number;
  admission?: AdmissionPolicy;
  /**
   * Which endpoints take no new requests (quarantined GPU, drained node, pinned elsewhere):
   * they are left out before the engine decides (`endpoint-gate.ts`).
   */
  endpointGate?: EndpointGate;
  /** Where watched decisions go, explained (`decision-recorder.ts`); absent: none are recorded. */
  decisions?: DecisionRecorder;
}

/**
 * A selector over `store`'s endpoints; `options` may be just the random source (tests). It reads
 * the engine's fleet views, which mirror the store record for record, so no pick scans the store.
 */
export function createEndpointSelector(
  store: StateStore,
  options: EndpointSelectorOptions | (() => number) = {},
): EndpointSelector {
  const opts = typeof options === 'function' ? { random: options } : options;
  let engine = opts.engine;
  if (!engine) {
    engine = createScoringEngine({ random: opts.random });
    syncEngineWithStore(engine, store);
  }
  const scoring = engine;
  const admission = opts.admission ?? DEFAULT_ADMISSION;
  const gate = opts.endpointGate;
  const recorder = opts.decisions;
  /** Records a watched pick (`decision-recorder.ts`); returns its id. */
  const note = (facts: PickFacts): string => {
    if (!recorder) return '';
    const record = describeDecision(recorder, facts);
    recorder.decided(record);
    return record.id;
  };
  // Endpoints the gate closes join the tried ones, so the engine never considers them. The gate
  // sees only the candidates this request may still use (its protocol, not yet tried): a `prefer`
  // pin then falls back to other nodes once its own endpoints failed this request.
  const withGated = (
    model: string,
    protocol: Protocol,
    exclude?: ReadonlySet<string>,
  ): ReadonlySet<string> | undefined => {
    if (!gate) return exclude;
    const candidates: ModelState[] = [];
    for (const v of scoring.fleet.forModel(model)) {
      if (speaks(v.state, protocol) && !exclude?.has(v.endpointId)) candidates.push(v.state);
    }
    const closed = gate(model, candidates);
    if (!closed || closed.size === 0) return exclude;
    if (!exclude) return closed;
    const out = new Set(exclude);
    for (const id of closed) out.add(id);
    return out;
  };
  /** Whether some endpoint the gate leaves open can serve `model` (over `protocol`, when given). */
  const serves = (model: string, protocol: Protocol | undefined): boolean => {
    const states = scoring.fleet
      .forModel(model)
      .map((v) => v.state)
      .filter((s) => isRoutable(s) && (protocol === undefined || speaks(s, protocol)));
    const closed = states.length > 0 ? gate?.(model, states) : undefined;
    return states.some((s) => !closed?.has(s.endpointId));
  };

  function pickNow(
    model: string,
    exclude: ReadonlySet<string> | undefined,
    protocol: Protocol,
    hints: PickHints,
    accept: ((candidate: RouteCandidate) => boolean) | undefined,
    traced?: PickTrace,
  ): Route {
    const req = { ...hints, model, protocol, exclude: withGated(model, protocol, exclude) };
    // Explained only while someone watches: the hot path needs the pick, not the reasons.
    const watched = recorder?.watching() === true;
    const kind = accept ? 'hedge' : exclude && exclude.size > 0 ? 'retry' : 'primary';
    let decision;
    try {
      decision = scoring.decide(req, undefined, watched ? WATCHED_CANDIDATES : traced !== undefined);
    } catch (err) {
      const code = MeshError.from(err).code;
      if (watched && code !== 'model_not_found') note({ model, hints, kind, error: code });
      const views = scoring.fleet.forModel(model);
      if (
        err instanceof MeshError &&
        err.code === 'no_healthy_endpoint' &&
        !views.some((v) => speaks(v.state, protocol))
      ) {
        throw new MeshError(
          'no_healthy_endpoint',
          `no endpoint serves model \`${excerpt(model)}\` over the ${protocol} protocol`,
          { endpoints: views.length, protocol },
        );
      }
      throw err;
    }
    traced?.decided(decision);
    const verdict = admit(
      {
        predictedWaitMs: decision.predictedWaitMs,
        sloClass: hints.sloClass,
        timeoutMs: hints.timeoutMs,
        maxWaitMs: hints.maxWaitMs,
      },
      admission,
    );
    traced?.admitted(verdict, decision.predictedWaitMs);
    if (!verdict.admitted) {
      if (watched) note({ model, hints, kind, decision, admission: verdict, error: 'rate_limited' });
      throw admissionError(verdict, model);
    }
    const { target } = decision;
    const { endpointId, endpointUrl, node } = target.state;
    if (
      accept &&
      !accept({
        endpointId,
        predictedWaitMs: decision.predictedWaitMs,
        queueDepth: target.state.queueDepth ?? 0,
      })
    ) {
      if (watched) note({ model, hints, kind, decision, admission: verdict, error: 'unavailable' });
      throw new MeshError('unavailable', `endpoint ${endpointId} was refused for this request`, {
        refused: true,
      });
    }
    const ticket = scoring.routed(target, req, decision.predictedWaitMs);
    let lease = leaseOf(scoring, ticket);
    if (watched)
      lease = watchedLease(lease, note({ model, hints, kind, decision, admission: verdict }), recorder);
    return {
      endpointId,
      node,
      url: endpointUrl,
      lease,
      ttftP95Ms: target.observedP95Ms,
      // The routed event set when its prefill should end: that is its predicted first token.
      predictedTtftMs: ticket.predictedDoneAt - ticket.sentAt,
      e2eMs: target.e2eMs,
    };
  }

  return {
    pick(model, exclude, protocol = 'openai', hints = {}, accept) {
      // Tracing on and the request sampled: `router.choose` and `router.admission` spans.
      const traced = startPickTrace(model, protocol, hints, exclude, accept !== undefined);
      // Decision and `routed` are one step: no other router thread decides in between.
      if (!traced) return scoring.exclusive(() => pickNow(model, exclude, protocol, hints, accept));
      return tracedPick(traced, () =>
        scoring.exclusive(() => pickNow(model, exclude, protocol, hints, accept, traced)),
      );
    },
    inFlight(endpointId) {
      scoring.sync();
      let n = 0;
      for (const v of scoring.fleet.all()) if (v.endpointId === endpointId) n += v.inFlight;
      return n;
    },
    inFlightByEndpoint() {
      scoring.sync();
      const out = new Map<string, number>();
      for (const v of scoring.fleet.all()) out.set(v.endpointId, (out.get(v.endpointId) ?? 0) + v.inFlight);
      return out;
    },
    knowsModel: (model) => scoring.fleet.forModel(model).length > 0,
    knownModels: () => scoring.fleet.models(),
    blockTokens: scoring.blockTokens,
    servedModels: (protocol) => scoring.fleet.models().filter((model) => serves(model, protocol)),
  };
}

function leaseOf(scoring: ScoringEngine, ticket: RouteTicket): RouteLease {
  const sentAt = performance.now();
  return {
    firstToken: () => scoring.firstToken(ticket, performance.now() - sentAt),
    withdrawn: () => scoring.withdrawn(ticket, performance.now() - sentAt),
    end: (ok) => scoring.finished(ticket, ok ? { ok, e2eMs: performance.now() - sentAt } : { ok }),
  };
}
