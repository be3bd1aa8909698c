/** Uniform random candidate (baseline; ignores scores). */
import type { Picker, PickerFactory } from '../../../types.ts';

export const createRandomPicker: PickerFactory = () =>
  ({ name: 'random', pick: (_c, n, _t, _r, ctx) => Math.floor(ctx.random() * n) }) satisfies Picker;
