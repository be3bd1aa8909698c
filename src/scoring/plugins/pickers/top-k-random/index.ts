/** Weighted random among the k best totals: spreads load across near-equal endpoints. */
import type { Picker, PickerFactory } from '../../../types.ts';
import { numParam } from '../../../plugin-params.ts';
import { selectTop } from '../../../select-top.ts';

export const createTopKRandomPicker: PickerFactory = (params) => {
  const k = Math.max(1, Math.floor(numParam(params, 'k', 3)));
  const top = new Int32Array(k);
  return {
    name: 'top-k-random',
    pick(_cands, n, totals, _req, ctx) {
      const m = selectTop(totals, n, k, top);
      let sum = 0;
      for (let j = 0; j < m; j++) sum += Math.max(0, totals[top[j]!]!);
      if (sum <= 0) return top[Math.floor(ctx.random() * m)] ?? 0;
      let r = ctx.random() * sum;
      for (let j = 0; j < m; j++) {
        r -= Math.max(0, totals[top[j]!]!);
        if (r < 0) return top[j]!;
      }
      return top[m - 1]!;
    },
  } satisfies Picker;
};
