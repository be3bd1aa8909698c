/** Share of the prompt the router's prefix index says an endpoint already holds. */
import type { Scorer, ScorerFactory } from '../../../types.ts';

export const createPrefixAffinityScorer: ScorerFactory = () =>
  ({
    name: 'prefix-affinity',
    score(cands, n, req, ctx, out) {
      const blocks = req.blockHashes?.length ?? 0;
      const epoch = ctx.epoch();
      for (let i = 0; i < n; i++) {
        const v = cands[i]!;
        out[i] = blocks > 0 && v.prefixEpoch === epoch ? v.prefixMatch / blocks : 0;
      }
    },
  }) satisfies Scorer;
