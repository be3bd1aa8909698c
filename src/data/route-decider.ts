/**
 * What the data plane asks of routing, whoever decides: the scoring engine in this thread
 * (`endpoint-selector.ts`, one worker or none) or the node's one decision owner on the main
 * thread, asked over a message port (`workers/remote-decider.ts`). The HTTP front and the relay
 * see only this interface, so a request's path is the same code in both set-ups.
 */
import type { Protocol } from '../core/types.ts';
import type { PickHints } from './request-hints.ts';

/** Where a request goes, and its hold on that endpoint. */
export interface Route {
  endpointId: string;
  /** The node the endpoint runs on: a forced drain of that node cuts the request. */
  node: string;
  /** The endpoint's base URL (`http://host:port[/prefix]`). */
  url: string;
  lease: RouteLease;
  /** The router's recent TTFT p95 at this endpoint (ms) at the pick, NaN until known: the hedge budget. */
  ttftP95Ms: number;
  /** The TTFT the engine predicts for this request there (queue + its own prefill, ms); NaN when none. */
  predictedTtftMs: number;
  /** The endpoint's mean end-to-end time (ms) at the pick, NaN until known: the budget of a whole answer. */
  e2eMs: number;
}

/** The chosen endpoint as a hedge sees it before committing to it: is it worth a second copy? */
export interface RouteCandidate {
  endpointId: string;
  /** Predicted wait before its prefill would start (ms). */
  predictedWaitMs: number;
  /** Requests waiting at the runtime, as last scraped (0 when unreported). */
  queueDepth: number;
}

/** One request's hold on an endpoint, from pick to end; what it reports feeds the engine. */
export interface RouteLease {
  /** The first token reached the router (the first SSE chunk): teaches prefill speed and queue. */
  firstToken(): void;
  /**
   * The request is being withdrawn before its first token (a hedge race's loser, cancelled because
   * the other copy answered): if it was overdue, the wait so far teaches the engine the endpoint is slow.
   */
  withdrawn(): void;
  /**
   * The request ended; `ok` false for failures and cancellations (a hedge race's loser). The
   * engine does not penalise an endpoint for `ok` false: an attempt that never produced a first
   * token gives its predicted prefill back to the queue estimate. Idempotent. `status`: the
   * attempt's HTTP status, for a watched decision's outcome.
   */
  end(ok: boolean, status?: number): void;
  /**
   * Present only on a watched decision's lease (`decision-recorder.ts`): the relay passes it each
   * chunk of the answer it writes to the client, to count output tokens.
   */
  relayed?(chunk: Buffer): void;
}

export interface RouteDecider {
  /**
   * Routes a request for `model` to the best endpoint among those that speak `protocol` (default
   * `openai`), skipping endpoint ids in `exclude` (already tried); `hints` (prompt size, prefix
   * blocks, SLO class, timeout) sharpen the choice. The request counts against the chosen endpoint
   * from this moment until its lease ends. Fails with `model_not_found` when no endpoint knows the
   * model, `no_healthy_endpoint` when none can serve it over that protocol, `rate_limited` when
   * the predicted wait exceeds the request's budget. With `accept` (a hedge), a chosen endpoint it
   * refuses is not routed to: the pick fails with `unavailable` and `details.refused` true.
   */
  pick(
    model: string,
    exclude?: ReadonlySet<string>,
    protocol?: Protocol,
    hints?: PickHints,
    accept?: (candidate: RouteCandidate) => boolean,
  ): Route | Promise<Route>;
  /** Models at least one routable endpoint serves (over `protocol` when given), sorted. */
  servedModels(protocol?: Protocol): string[];
  /** Whether any endpoint, routable or not, knows `model` (bounds metric labels to real models). */
  knowsModel(model: string): boolean;
  /** Tokens per prefix block of the engine's index, for `requestHints`. */
  readonly blockTokens: number;
}
