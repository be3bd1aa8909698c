/** Recent p95 latency: the router's own observation first, the runtime's reported TTFT p95 second. */
import type { Scorer, ScorerFactory } from '../../../types.ts';
import { numParam } from '../../../plugin-params.ts';

export const createLatencyScorer: ScorerFactory = (params) => {
  const refMs = numParam(params, 'refMs', 1000);
  return {
    name: 'latency',
    score(cands, n, _req, _ctx, out) {
      for (let i = 0; i < n; i++) {
        const v = cands[i]!;
        const p95 = Number.isFinite(v.observedP95Ms) ? v.observedP95Ms : v.state.ttftP95Ms;
        out[i] = p95 === undefined ? 0.5 : refMs / (refMs + p95);
      }
    },
  } satisfies Scorer;
};
