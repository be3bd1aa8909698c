/**
 * Routing events: every change the router makes to its own picture of the fleet, as a value. A
 * replica of the engine changes its router-side state (in-flight counts and tokens, the predicted
 * prefill queue, the prefix index, learned GPU speed and latency) only by applying these, in the
 * order of the node's journal, and every field an apply reads is in the event or in state built
 * by earlier events — so replicas that apply the same journal hold the same state.
 */

/** Names one endpoint view in every replica: `${endpointId}\u0000${model}` (the fleet's key). */
export type ViewKey = string;

export const viewKey = (endpointId: string, model: string): ViewKey => `${endpointId}\u0000${model}`;

/** Who appended an event and which of its requests it is about. */
export interface EventOrigin {
  /** The journal participant (0: the main thread, 1..N: router workers). */
  origin: number;
  /** The request, unique per origin. */
  ticket: number;
  /**
   * Another router's request, counted here as it told (src/scoring/route-relay.ts): this router
   * applies it like its own but does not relay it on.
   */
  relayed: boolean;
}

/** A request was sent to `key`: it holds its tokens and its prefill is queued there. */
export interface RoutedEvent extends EventOrigin {
  kind: 'routed';
  key: ViewKey;
  /** Engine clock (ms) of the send. */
  at: number;
  /** Prompt + expected output tokens. */
  tokens: number;
  /** The prompt's tokens (the rest of `tokens` is the expected output). */
  promptTokens: number;
  /** Prefill work in linear tokens (`prefillWork`). */
  work: number;
  /** Prompt block hashes sent (the prefix index records them). */
  hashes: ArrayLike<number>;
  /** The answer streams: a first token will be reported (`ScoringRequest.stream`). */
  streamed: boolean;
}

/**
 * The request's first token arrived `ttftMs` after `sentAt`; or, `censored`, it had not arrived
 * `ttftMs` after `sentAt` when the request was withdrawn (a hedge race's loser): a lower bound.
 */
export interface FirstTokenEvent extends EventOrigin {
  kind: 'first';
  key: ViewKey;
  at: number;
  work: number;
  sentAt: number;
  predictedWaitMs: number;
  /** When its prefill was predicted to end (set by the `routed` apply). */
  predictedDoneAt: number;
  ttftMs: number;
  /**
   * When sent, the endpoint's batch slots or KV space were all taken by the router's own requests:
   * part of its TTFT was spent waiting for decodes to end, which says nothing about prefill speed.
   */
  queued: boolean;
  /** A lower bound of the endpoint's prefill rate from the runtime's own metrics (tokens/s); NaN when none. */
  runtimeRate: number;
  /** No first token yet after `ttftMs`: the request was withdrawn (see above). */
  censored: boolean;
  streamed: boolean;
}

/** The request ended. */
export interface FinishedEvent extends EventOrigin {
  kind: 'finished';
  key: ViewKey;
  at: number;
  tokens: number;
  work: number;
  predictedDoneAt: number;
  firstTokenSeen: boolean;
  ok: boolean;
  /** End-to-end latency (ms); NaN when not known. */
  e2eMs: number;
  streamed: boolean;
}

export type RoutingEvent = RoutedEvent | FirstTokenEvent | FinishedEvent;
