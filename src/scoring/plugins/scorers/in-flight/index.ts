/**
 * Requests (or tokens) in flight at each endpoint: the router's own, updated at send time, and
 * the other routers' it was told of (route-relay.ts).
 */
import type { Scorer, ScorerFactory } from '../../../types.ts';
import { numParam } from '../../../plugin-params.ts';

export const createInFlightScorer: ScorerFactory = (params) => {
  const tokens = params.unit === 'tokens';
  const half = numParam(params, 'half', tokens ? 16_384 : 1);
  // `max`: also trust the runtime's reported running + waiting when it says more (other routers' traffic).
  const withReported = params.source === 'max';
  return {
    name: 'in-flight',
    score(cands, n, _req, _ctx, out) {
      for (let i = 0; i < n; i++) {
        const v = cands[i]!;
        const own = tokens ? v.inFlightTokens : v.inFlight;
        const reported = withReported && !tokens ? (v.state.running ?? 0) + (v.state.queueDepth ?? 0) : 0;
        out[i] = half / (half + Math.max(own, reported));
      }
    },
  } satisfies Scorer;
};
