/**
 * Predicted time to first token at each endpoint: the wait for work already there (router-sent
 * prefill, full batch, the runtime's reported queue) plus this request's own prefill after the
 * router's prefix match, at the GPU type's learned service rate. Folds queue depth ÷ service rate,
 * prefix reuse and GPU speed into one number in milliseconds, so they trade off in real units.
 */
import type { Scorer, ScorerFactory } from '../../../types.ts';
import { numParam } from '../../../plugin-params.ts';
import { predictWaitMs, uncachedTokens } from '../../../wait-model.ts';

export const createWorkLeftScorer: ScorerFactory = (params) => {
  const halfMs = numParam(params, 'halfMs', 1000);
  return {
    name: 'work-left',
    score(cands, n, req, ctx, out) {
      const prompt = req.promptTokens ?? 0;
      for (let i = 0; i < n; i++) {
        const v = cands[i]!;
        const ttft = predictWaitMs(v, ctx) + (uncachedTokens(v, prompt, ctx) * 1000) / ctx.serviceRate(v);
        out[i] = halfMs / (halfMs + ttft);
      }
    },
  } satisfies Scorer;
};
