/** Round-robin over the candidates that passed the filters (baseline; ignores scores). */
import type { Picker, PickerFactory } from '../../../types.ts';

export const createRoundRobinPicker: PickerFactory = () => {
  let next = 0;
  return { name: 'round-robin', pick: (_c, n) => next++ % n } satisfies Picker;
};
