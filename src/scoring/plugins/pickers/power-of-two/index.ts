/** Power of two choices: two distinct random candidates, the higher total wins. */
import type { Picker, PickerFactory } from '../../../types.ts';

export const createPowerOfTwoPicker: PickerFactory = () =>
  ({
    name: 'power-of-two',
    pick(_cands, n, totals, _req, ctx) {
      if (n < 2) return 0;
      const a = Math.floor(ctx.random() * n);
      let b = Math.floor(ctx.random() * (n - 1));
      if (b >= a) b++;
      return totals[b]! > totals[a]! ? b : a;
    },
  }) satisfies Picker;
