/**
 * Predicted time to first token at each endpoint: the wait for work already there (router-sent
 * prefill, full batch, the runtime's reported queue) plus this request's own prefill after the
 * router's prefix match, at the GPU type's learned service rate. Folds queue depth ÷ service rate,
 * prefix reuse and GPU speed into one number in milliseconds, so they trade off in real units.
 */
import type { Scorer, ScorerFactory } from '../../../types.ts';
import { numParam } from '../../../plugin-params.ts';
import { predictWaitMs, prefillWork, uncachedTokens } from '../../../wait-model.ts';

export const createWorkLeftScorer: ScorerFactory = (params) => {
  const halfMs = numParam(params, 'halfMs', 1000);
  // `relative`: scored against the best candidate of this decision, `(best + halfMs) / (ttft + halfMs)`,
  // so a target twice as slow scores about half whether the prompt takes 50 ms or 50 s; the
  // absolute `halfMs / (halfMs + ttft)` flattens long prompts' differences below other scorers'.
  const relative = params.relative === true;
  return {
    name: 'work-left',
    score(cands, n, req, ctx, out) {
      const prompt = req.promptTokens ?? 0;
      const knee = ctx.attentionKneeTokens;
      let best = Infinity;
      for (let i = 0; i < n; i++) {
        const v = cands[i]!;
        const work = prefillWork(uncachedTokens(v, prompt, ctx), prompt, knee);
        const ttft = predictWaitMs(v, ctx) + (work * 1000) / ctx.serviceRate(v);
        out[i] = ttft;
        if (ttft < best) best = ttft;
      }
      const top = relative ? best + halfMs : halfMs;
      for (let i = 0; i < n; i++) out[i] = top / (halfMs + out[i]!);
    },
  } satisfies Scorer;
};
