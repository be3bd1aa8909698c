/** KV-cache pressure: the larger of the scraped KV use and what the router's in-flight work holds. */
import type { Scorer, ScorerFactory } from '../../../types.ts';
import { numParam } from '../../../plugin-params.ts';

export const createKvPressureScorer: ScorerFactory = (params) => {
  const knee = numParam(params, 'knee', 1);
  const ownOnly = params.source === 'scraped' ? false : true;
  return {
    name: 'kv-pressure',
    score(cands, n, req, _ctx, out) {
      const adds = (req.promptTokens ?? 0) + (req.maxTokens ?? 0);
      for (let i = 0; i < n; i++) {
        const v = cands[i]!;
        const scraped = v.state.kvCacheUsage ?? 0;
        const held = v.inFlightTokens; // ours and the other routers' we were told of
        const own = ownOnly && v.kvTokens > 0 ? (held + adds) / v.kvTokens : 0;
        const u = Math.max(scraped, own);
        // Below the knee usage costs linearly; above it (preemption territory) the score is 0.
        out[i] = u >= knee ? 0 : 1 - u / knee;
      }
    },
  } satisfies Scorer;
};
