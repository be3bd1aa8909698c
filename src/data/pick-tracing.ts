/**
 * A pick's spans, children of the request's `router.request`: `router.choose` (the engine's
 * decision: candidates, the chosen endpoint, the best few with their scores, the profile) then
 * `router.admission` (the predicted wait against the request's budget, the hedge's saturation
 * check, and the lease taken). Only for a request whose span records (tracing on, trace sampled):
 * otherwise no span is started and the decision is not explained.
 */
import { context, SpanStatusCode } from '@opentelemetry/api';
import type { Protocol } from '../core/types.ts';
import type { AdmissionResult } from '../scoring/admission.ts';
import type { Decision } from '../scoring/types.ts';
import { ATTR, SPAN } from '../observability/tracing/attributes.ts';
import {
  failSpan,
  recordingSpan,
  startSpan,
  type Context,
  type Span,
} from '../observability/tracing/tracer.ts';
import type { PickHints } from './request-hints.ts';
import type { Route } from './route-decider.ts';

/** Reports of one pick, in order: `decided`, `admitted`, then `routed` or `failed` (at any point). */
export interface PickTrace {
  decided(decision: Decision): void;
  admitted(verdict: AdmissionResult, predictedWaitMs: number): void;
  routed(route: Route): void;
  failed(err: unknown): void;
}

/** Starts a pick's `router.choose` span, or undefined when the active request span does not record. */
export function startPickTrace(
  model: string,
  protocol: Protocol,
  hints: PickHints,
  exclude: ReadonlySet<string> | undefined,
  hedge: boolean,
): PickTrace | undefined {
  if (!recordingSpan()) return undefined;
  const parent: Context = context.active();
  const span = startSpan(SPAN.choose, undefined, parent)!;
  span.setAttributes({
    [ATTR.genAiModel]: model,
    [ATTR.protocol]: protocol,
    [ATTR.excluded]: exclude?.size ?? 0,
    [ATTR.hedge]: hedge,
    ...(hints.sloClass ? { [ATTR.sloClass]: hints.sloClass } : {}),
  });
  let choose: Span | undefined = span;
  let admission: Span | undefined;
  return {
    decided(decision) {
      if (!choose) return;
      const top = decision.top;
      choose.setAttributes({
        [ATTR.candidates]: decision.candidates,
        [ATTR.profile]: decision.profile,
        [ATTR.endpoint]: decision.target.endpointId,
        [ATTR.score]: round(decision.score),
        [ATTR.predictedWaitMs]: Math.round(decision.predictedWaitMs),
        [ATTR.topEndpoints]: top.map((t) => t.endpointId),
        [ATTR.topTotals]: top.map((t) => round(t.total)),
        // Attribute values are flat: each candidate's per-scorer scores as one JSON text.
        [ATTR.topScorers]: JSON.stringify(
          top.map((t) => Object.fromEntries(Object.entries(t.scores).map(([k, v]) => [k, round(v)]))),
        ),
      });
      choose.setStatus({ code: SpanStatusCode.OK });
      choose.end();
      choose = undefined;
    },
    admitted(verdict, predictedWaitMs) {
      admission = startSpan(SPAN.admission, undefined, parent)!;
      admission.setAttributes({
        [ATTR.admitted]: verdict.admitted,
        [ATTR.admissionLimitMs]: verdict.limitMs,
        [ATTR.admissionReason]: verdict.reason,
        [ATTR.predictedWaitMs]: Math.round(predictedWaitMs),
        ...(hints.sloClass ? { [ATTR.sloClass]: hints.sloClass } : {}),
      });
    },
    routed(route) {
      if (!admission) return;
      admission.setAttributes({
        [ATTR.endpoint]: route.endpointId,
        ...(Number.isFinite(route.predictedTtftMs)
          ? { [ATTR.predictedTtftMs]: Math.round(route.predictedTtftMs) }
          : {}),
      });
      admission.setStatus({ code: SpanStatusCode.OK });
      admission.end();
      admission = undefined;
    },
    failed(err) {
      const span = choose ?? admission;
      if (!span) return;
      failSpan(span, err);
      span.end();
      choose = admission = undefined;
    },
  };
}

/** Runs `pick`, then reports its route or its failure to `traced`. */
export function tracedPick(traced: PickTrace, pick: () => Route): Route {
  try {
    const route = pick();
    traced.routed(route);
    return route;
  } catch (err) {
    traced.failed(err);
    throw err;
  }
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
