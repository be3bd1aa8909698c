/** Free GPU memory fraction from the GPU reading; endpoints without one get a neutral 0.5. */
import type { Scorer, ScorerFactory } from '../../../types.ts';

export const createVramHeadroomScorer: ScorerFactory = () =>
  ({
    name: 'vram-headroom',
    score(cands, n, _req, _ctx, out) {
      for (let i = 0; i < n; i++) {
        const g = cands[i]!.gpu;
        const total = g?.memoryTotalBytes ?? 0;
        out[i] = g && total > 0 ? (total - (g.memoryUsedBytes ?? 0)) / total : 0.5;
      }
    },
  }) satisfies Scorer;
