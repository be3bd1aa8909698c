/**
 * A routing decision as the router reports it for people to look at (the dashboard's decision
 * explorer): the candidates the engine ranked with each scorer's score and weight, the pick, the
 * admission verdict, and later the outcome of the attempt it led to. The data plane produces
 * these only while someone watches (`src/data/decision-recorder.ts`); observability keeps and
 * serves them. Plain JSON, so they cross threads and the dashboard's stream as they are.
 */

/** Why this decision was made: a request's first pick, a retry after a failure, or a hedge. */
export type DecisionKind = 'primary' | 'retry' | 'hedge';

/** One ranked candidate: its weighted total (0..1) and each weighted scorer's clamped score. */
export interface DecisionCandidate {
  endpointId: string;
  total: number;
  scores: Record<string, number>;
}

/** The admission check on the chosen endpoint. */
export interface AdmissionVerdict {
  admitted: boolean;
  /** The predicted wait was compared with this budget (ms). */
  limitMs: number;
  reason: string;
}

/** What became of the attempt a decision sent (absent until it ends). */
export interface DecisionOutcome {
  ok: boolean;
  /** HTTP status of the attempt (the upstream's, or the mesh error's when it failed before a byte). */
  status?: number;
  /** Send to first token (ms); absent when none came (not streamed, failed, or lost a hedge race). */
  ttftMs?: number;
  /** Send to end (ms). */
  e2eMs?: number;
  /** Output tokens: events of a streamed answer, or the `usage` a JSON answer reports. */
  outputTokens?: number;
  /** Withdrawn before its first token because the other copy of the request answered first. */
  withdrawn?: boolean;
}

/** One decision of the router. */
export interface DecisionRecord {
  /** Unique in the node: `<thread>-<sequence>`. */
  id: string;
  requestId: string;
  /** Unix ms of the decision. */
  at: number;
  model: string;
  profile: string;
  kind: DecisionKind;
  /** The router thread that decided (0: the main thread or the only one). */
  worker: number;
  sloClass?: string;
  promptTokens?: number;
  maxTokens?: number;
  /** Candidates that passed the filters. */
  candidates: number;
  /** Scorer weights for this request's class (after SLO policy overrides). */
  weights: Record<string, number>;
  /** The best candidates, best first; the chosen one is marked by `chosen`. */
  top: DecisionCandidate[];
  chosen?: string;
  predictedWaitMs?: number;
  admission?: AdmissionVerdict;
  /** Why no request was sent: the mesh error code (`no_healthy_endpoint`, `rate_limited`, `unavailable`). */
  error?: string;
  outcome?: DecisionOutcome;
}

/** An outcome reported for an earlier decision (joined to it by `id`). */
export interface OutcomeReport {
  id: string;
  outcome: DecisionOutcome;
}
