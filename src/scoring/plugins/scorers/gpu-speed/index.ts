/** Heterogeneous GPU speed: the learned prefill service rate of each endpoint's GPU type, relative to the fastest. */
import type { Scorer, ScorerFactory } from '../../../types.ts';

export const createGpuSpeedScorer: ScorerFactory = () =>
  ({
    name: 'gpu-speed',
    score(cands, n, _req, ctx, out) {
      let best = 0;
      for (let i = 0; i < n; i++) {
        const r = ctx.serviceRate(cands[i]!);
        out[i] = r;
        if (r > best) best = r;
      }
      for (let i = 0; i < n; i++) out[i] = best > 0 ? out[i]! / best : 1;
    },
  }) satisfies Scorer;
