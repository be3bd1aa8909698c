/**
 * Admission: a request is admitted when the wait predicted at its chosen endpoint fits its budget,
 * the smaller of its own timeout and its SLO class's limit (from an SLO policy, else config). Otherwise it is refused
 * with 429 and a `Retry-After` of roughly how long the excess wait should take to drain. The
 * router and the `Scoring.Admit` RPC both call this, so they give the same answer.
 */
import { excerpt, MeshError } from '../core/errors.ts';

export interface AdmissionPolicy {
  enabled: boolean;
  /** Longest predicted wait per SLO class, ms. */
  maxWaitMs: { latency: number; throughput: number };
}

export interface AdmissionInput {
  predictedWaitMs: number;
  sloClass?: 'latency' | 'throughput';
  /** The request's own timeout, ms (0 or absent: none). */
  timeoutMs?: number;
  /** The class's longest wait for this request when an SLO policy sets it, over `policy.maxWaitMs`. */
  maxWaitMs?: number;
}

export interface AdmissionResult {
  admitted: boolean;
  /** The budget the wait was compared with, ms. */
  limitMs: number;
  /** Seconds to wait before retrying (refusals only), at least 1. */
  retryAfterSeconds?: number;
  reason: string;
}

export const DEFAULT_ADMISSION: AdmissionPolicy = {
  enabled: true,
  maxWaitMs: { latency: 10_000, throughput: 120_000 },
};

export function admit(input: AdmissionInput, policy: AdmissionPolicy = DEFAULT_ADMISSION): AdmissionResult {
  const classLimit = input.maxWaitMs ?? policy.maxWaitMs[input.sloClass ?? 'latency'];
  const limitMs = input.timeoutMs && input.timeoutMs > 0 ? Math.min(classLimit, input.timeoutMs) : classLimit;
  const wait = Math.round(input.predictedWaitMs);
  if (!policy.enabled || input.predictedWaitMs <= limitMs) {
    return { admitted: true, limitMs, reason: `predicted wait ${wait} ms within ${limitMs} ms` };
  }
  return {
    admitted: false,
    limitMs,
    retryAfterSeconds: Math.max(1, Math.ceil((input.predictedWaitMs - limitMs) / 1000)),
    reason: `predicted wait ${wait} ms exceeds ${limitMs} ms`,
  };
}

/** The 429 the data plane answers for a refusal; `retryAfterSeconds` becomes the `Retry-After` header. */
export function admissionError(result: AdmissionResult, model: string): MeshError {
  return new MeshError('rate_limited', `model \`${excerpt(model)}\` is overloaded: ${result.reason}`, {
    retryAfterSeconds: result.retryAfterSeconds ?? 1,
  });
}
