/**
 * One attempt of a request on a routed endpoint, with its bookkeeping: the attempt itself
 * (`upstream-attempt.ts`), the first-token report to the engine, the request metrics of a
 * committed answer, and the end of the route's lease — exactly once, whatever happens.
 */
import { MeshError } from '../core/errors.ts';
import type { ClientExchange } from './client-exchange.ts';
import type { ForwardDeps, ForwardRequest } from './forward.ts';
import { bothObservers, startUpstreamTrace, type AttemptMark } from './request-tracing.ts';
import type { Route } from './route-decider.ts';
import { attempt, type AttemptResult, type AttemptTarget } from './upstream-attempt.ts';

/** What a hedge race adds to an attempt: it holds the controller and decides who may commit. */
export type RaceHooks = Pick<AttemptTarget, 'onStart' | 'claim'>;

const FIRST_ATTEMPT: AttemptMark = { attempt: 0, hedge: false };

export async function attemptOn(
  deps: ForwardDeps,
  request: ForwardRequest,
  route: Route,
  exchange: ClientExchange,
  hooks?: RaceHooks,
  mark: AttemptMark = FIRST_ATTEMPT,
): Promise<AttemptResult> {
  const metrics = deps.metrics.route(request.model, route.endpointId);
  const sentAt = performance.now();
  const path = deps.upstreams.path(route.url, request.path);
  // Tracing on: this attempt's span, whose context replaces the client's `traceparent` upstream.
  const traced = startUpstreamTrace(request.headers, route, path, mark);
  const { lease } = route;
  const onData = bothObservers(lease.relayed && ((chunk) => lease.relayed?.(chunk)), traced?.onData);
  let unregister: (() => void) | undefined;
  let result: AttemptResult;
  try {
    result = await attempt(exchange, {
      endpointId: route.endpointId,
      pool: deps.upstreams.pool(route.url),
      path,
      headers: traced ? traced.headers : request.headers,
      body: request.body,
      protocol: request.protocol,
      stream: request.stream,
      onCommit(status, sse) {
        metrics.ttft.observe((performance.now() - request.startedAt) / 1000);
        traced?.committed(status, sse, request.startedAt, sentAt);
        // A stream's first chunk follows the first token; a whole JSON answer says nothing of prefill.
        if (sse && status < 300) {
          route.lease.firstToken();
          deps.hedging?.observeFirstToken(
            request.model,
            performance.now() - sentAt,
            request.hints.promptTokens ?? 0,
          );
        }
      },
      onStart(controller) {
        unregister = deps.attempts?.add(route.node, controller);
        hooks?.onStart?.(controller);
      },
      claim: hooks?.claim,
      ...(onData ? { onData } : {}),
    });
  } catch (err) {
    // dispatch threw synchronously (a closed pool while stopping): nothing was sent.
    result = { committed: false, error: MeshError.from(err, 'upstream_error') };
  }
  unregister?.();
  traced?.ended(result);
  // A hedge race's loser ends `ok: false` like a cancellation: no first token, its queue share returned.
  route.lease.end(
    result.committed && result.error === undefined && result.status < 400,
    result.committed ? (result.error?.httpStatus ?? result.status) : result.error.httpStatus,
  );
  if (result.committed) {
    const { error } = result;
    const seconds = (performance.now() - request.startedAt) / 1000;
    if (error === undefined) metrics.finished(result.status, 'ok', seconds);
    else {
      metrics.finished(error.httpStatus, error.code, seconds);
      if (error.code !== 'cancelled') {
        deps.logger.warn(
          { requestId: request.requestId, endpoint: route.endpointId, code: error.code, err: error.message },
          'upstream failed mid-response',
        );
      }
    }
  }
  return result;
}
