/** Share of the prompt the router's prefix index says an endpoint already holds. */
import type { Scorer, ScorerFactory } from '../../../types.ts';
import { numParam } from '../../../plugin-params.ts';

export const createPrefixAffinityScorer: ScorerFactory = (params) => {
  // Only the first `maxPrefixTokens` of a prompt count when set (0: the whole prompt), as the
  // Inference Extension's prefix-cache-scorer matches at most 256 blocks of 16 tokens.
  const maxPrefixTokens = Math.max(0, numParam(params, 'maxPrefixTokens', 0));
  return {
    name: 'prefix-affinity',
    score(cands, n, req, ctx, out) {
      let blocks = req.blockHashes?.length ?? 0;
      if (maxPrefixTokens > 0) blocks = Math.min(blocks, Math.floor(maxPrefixTokens / ctx.blockTokens));
      const epoch = ctx.epoch();
      for (let i = 0; i < n; i++) {
        const v = cands[i]!;
        out[i] = blocks > 0 && v.prefixEpoch === epoch ? Math.min(v.prefixMatch, blocks) / blocks : 0;
      }
    },
  } satisfies Scorer;
};
