/** Queue depth the runtime reported (scraped, so a scrape interval old), as llm-d's queue scorer. */
import type { Scorer, ScorerFactory } from '../../../types.ts';
import { numParam } from '../../../plugin-params.ts';

export const createQueueScorer: ScorerFactory = (params) => {
  const minmax = params.normalize !== 'inverse';
  const half = numParam(params, 'half', 8);
  return {
    name: 'queue',
    score(cands, n, _req, _ctx, out) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < n; i++) {
        const q = cands[i]!.state.queueDepth ?? 0;
        out[i] = q;
        if (q < lo) lo = q;
        if (q > hi) hi = q;
      }
      for (let i = 0; i < n; i++) {
        const q = out[i]!;
        out[i] = minmax ? (hi > lo ? (hi - q) / (hi - lo) : 1) : half / (half + q);
      }
    },
  } satisfies Scorer;
};
