/**
 * What the Triton flavour counts for its `/metrics` page: Triton's per-model counters, with
 * durations as cumulative microseconds of simulated time. The engine does not report when a
 * request leaves its queue, so "queue" is submit → first token (prefill included) and "compute
 * infer" is first token → end; compute input/output take no time in the simulator.
 */

/** Triton's `nv_inference_request_failure{reason}` values (Triton 24.x and later). */
export const TRITON_FAILURE_REASONS = ['REJECTED', 'CANCELED', 'BACKEND', 'OTHER'] as const;
export type TritonFailureReason = (typeof TRITON_FAILURE_REASONS)[number];

export interface TritonStats {
  success: number;
  failure: Record<TritonFailureReason, number>;
  /** Inferences (a batch of n counts n); one per request here. */
  count: number;
  /** Model executions. */
  execCount: number;
  requestUs: number;
  queueUs: number;
  computeInputUs: number;
  computeInferUs: number;
  computeOutputUs: number;
}

export function createTritonStats(): TritonStats {
  return {
    success: 0,
    failure: { REJECTED: 0, CANCELED: 0, BACKEND: 0, OTHER: 0 },
    count: 0,
    execCount: 0,
    requestUs: 0,
    queueUs: 0,
    computeInputUs: 0,
    computeInferUs: 0,
    computeOutputUs: 0,
  };
}
