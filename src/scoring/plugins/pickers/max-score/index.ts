/** The highest total wins; exact ties are spread at random so idle endpoints share a burst. */
import type { Picker, PickerFactory } from '../../../types.ts';

export const createMaxScorePicker: PickerFactory = () =>
  ({
    name: 'max-score',
    pick(_cands, n, totals, _req, ctx) {
      let best = 0;
      let bestScore = -Infinity;
      let ties = 0;
      for (let i = 0; i < n; i++) {
        const s = totals[i]!;
        if (s > bestScore + 1e-12) {
          best = i;
          bestScore = s;
          ties = 1;
        } else if (s >= bestScore - 1e-12 && ctx.random() * ++ties < 1) best = i; // reservoir sampling
      }
      return best;
    },
  }) satisfies Picker;
