/** Drops endpoints whose GPU is quarantined or lost. Endpoints with no GPU reading pass. */
import type { Filter, FilterFactory } from '../../../types.ts';

export const createQuarantineFilter: FilterFactory = () =>
  ({ name: 'quarantine', keep: (v) => v.gpu === undefined || v.gpu.healthy }) satisfies Filter;
