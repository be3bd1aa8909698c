/** LoRA affinity: an endpoint that already has the requested adapter loaded avoids a load. */
import type { Scorer, ScorerFactory } from '../../../types.ts';
import { numParam } from '../../../plugin-params.ts';

export const createLoraAffinityScorer: ScorerFactory = (params) => {
  const missing = numParam(params, 'missing', 0);
  return {
    name: 'lora-affinity',
    constant: (req) => (req.lora ? undefined : 1),
    score(cands, n, req, _ctx, out) {
      for (let i = 0; i < n; i++) {
        const adapters = cands[i]!.state.loraAdapters;
        out[i] = !req.lora || (adapters?.includes(req.lora) ?? false) ? 1 : missing;
      }
    },
  } satisfies Scorer;
};
