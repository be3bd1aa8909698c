/**
 * A request's attempt with its hedge: the request goes to its routed endpoint; if no first token
 * (no answer, when it is not streamed) arrives within the hedging budget and nothing has reached
 * the client, a second copy goes to the next-best endpoint (the engine's pick with the first
 * excluded). Whichever commits first — its first body byte — is relayed; the other is aborted at
 * that moment, which closes its upstream connection, so the runtime sees the cancellation. Both
 * attempts are routed and end exactly once in the engine; the loser ends as a cancellation.
 */
import type { Dispatcher } from 'undici';
import { MeshError } from '../core/errors.ts';
import type { ClientExchange } from './client-exchange.ts';
import type { ForwardDeps, ForwardRequest } from './forward.ts';
import type { HedgeSuppression } from './hedge.ts';
import type { Route } from './route-decider.ts';
import { attemptOn } from './route-attempt.ts';
import type { AttemptResult } from './upstream-attempt.ts';

/** One of the racing attempts. */
interface Runner {
  route: Route;
  hedge: boolean;
  controller?: Dispatcher.DispatchController;
  settled: boolean;
  /** The other attempt committed first: this one is (being) cancelled. */
  lost: boolean;
  done: Promise<AttemptResult>;
}

/** The race's outcome: the result to act on, and every endpoint tried (for retries to skip). */
export interface RaceResult {
  result: AttemptResult;
  endpoints: string[];
}

const lostRace = () => new MeshError('cancelled', 'another attempt of this request answered first');

/** Runs `route`'s attempt, hedged when hedging is on for the request; resolves when every attempt ended. */
export async function raceOn(
  deps: ForwardDeps,
  request: ForwardRequest,
  route: Route,
  exchange: ClientExchange,
  tried: ReadonlySet<string> | undefined,
  /** Which pick of the request this is (0 first, n the n-th retry): marks its attempts' spans. */
  attempt = 0,
): Promise<RaceResult> {
  const hedging = deps.hedging;
  const budgetMs = hedging?.budgetMs(route, {
    model: request.model,
    stream: request.stream,
    sloClass: request.hints.sloClass,
    promptTokens: request.hints.promptTokens,
    policy: request.hedge,
  });
  if (!hedging || budgetMs === undefined) {
    const mark = attempt > 0 ? { attempt, hedge: false } : undefined;
    return {
      result: await attemptOn(deps, request, route, exchange, undefined, mark),
      endpoints: [route.endpointId],
    };
  }
  const runners: Runner[] = [];
  let winner: Runner | undefined;
  let decided: (() => void) | undefined;

  const start = (target: Route, hedge: boolean): Runner => {
    const runner: Runner = {
      route: target,
      hedge,
      settled: false,
      lost: false,
      done: Promise.resolve(null!),
    };
    runners.push(runner);
    const mark = { attempt, hedge, lost: () => runner.lost };
    runner.done = attemptOn(
      deps,
      request,
      target,
      exchange,
      {
        onStart(controller) {
          runner.controller = controller;
          if (runner.lost) controller.abort(lostRace());
        },
        claim() {
          if (winner) return false;
          winner = runner;
          decided?.();
          for (const other of runners) {
            if (other === runner || other.settled) continue;
            other.lost = true;
            other.route.lease.withdrawn();
            other.controller?.abort(lostRace());
          }
          return true;
        },
      },
      mark,
    ).then((result) => {
      runner.settled = true;
      return result;
    });
    return runner;
  };

  const primary = start(route, false);
  const due = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(true), budgetMs);
    decided = () => {
      clearTimeout(timer);
      resolve(false);
    };
    void primary.done.then(decided);
  });
  decided = undefined;
  const open = () => !winner && !primary.settled && !exchange.clientGone && !exchange.stopped;
  if (due && open()) {
    const target = await pickHedge(deps, request, route, tried);
    if (target && open()) {
      deps.metrics.hedged(request.model);
      deps.logger.debug(
        { requestId: request.requestId, endpoint: route.endpointId, hedge: target.endpointId, budgetMs },
        'first token late: hedged',
      );
      start(target, true);
    } else target?.lease.end(false); // answered while the hedge was being picked: never sent
  }

  const results = await Promise.all(runners.map((r) => r.done));
  const endpoints = runners.map((r) => r.route.endpointId);
  if (runners.length > 1) {
    runners.forEach((r, i) => {
      const res = results[i];
      if (r.lost && res && !res.committed)
        deps.metrics.hedgeCancelled(request.model, r.hedge ? 'hedge' : 'primary');
    });
    if (winner?.hedge) deps.metrics.hedgeWon(request.model);
  }
  const won = winner ? results[runners.indexOf(winner)] : undefined;
  if (won) return { result: won, endpoints };
  // Nothing committed: the failure to report is a real one, not a race loser's cancellation.
  const failed = results.filter((r, i) => !runners[i]?.lost);
  return { result: failed[failed.length - 1] ?? results[0]!, endpoints };
}

/** The next-best endpoint for a hedge, or undefined (counted by reason) when none may be sent. */
async function pickHedge(
  deps: ForwardDeps,
  request: ForwardRequest,
  primary: Route,
  tried: ReadonlySet<string> | undefined,
): Promise<Route | undefined> {
  const hedging = deps.hedging!;
  const suppress = (reason: HedgeSuppression): undefined => {
    deps.metrics.hedgeSuppressed(request.model, reason);
    return undefined;
  };
  if (!hedging.take()) return suppress('cap');
  const exclude = new Set(tried);
  exclude.add(primary.endpointId);
  try {
    return await deps.decider.pick(
      request.model,
      exclude,
      request.protocol.speaks,
      request.hints,
      (candidate) => hedging.accepts(candidate),
    );
  } catch (err) {
    hedging.refund();
    const error = MeshError.from(err);
    if (error.details.refused === true) return suppress('saturated');
    return suppress(error.code === 'rate_limited' ? 'overloaded' : 'no_candidate');
  }
}
