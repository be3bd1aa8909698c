/** Weighted random among the k best totals: spreads load across near-equal endpoints. */
import type { Picker, PickerFactory } from '../../../types.ts';
import { numParam } from '../../../plugin-params.ts';

export const createTopKRandomPicker: PickerFactory = (params) => {
  const k = Math.max(1, Math.floor(numParam(params, 'k', 3)));
  const top = new Int32Array(k);
  return {
    name: 'top-k-random',
    pick(_cands, n, totals, _req, ctx) {
      // Partial selection: keep the k best indices in descending order (k is small).
      let m = 0;
      for (let i = 0; i < n; i++) {
        const s = totals[i]!;
        if (m < k) m++;
        else if (s <= totals[top[k - 1]!]!) continue;
        let j = m - 1;
        while (j > 0 && totals[top[j - 1]!]! < s) {
          top[j] = top[j - 1]!;
          j--;
        }
        top[j] = i;
      }
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
