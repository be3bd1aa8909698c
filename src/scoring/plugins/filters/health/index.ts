/** Drops endpoints that cannot take traffic now: unhealthy, still warming, or not loaded. */
import type { Filter, FilterFactory } from '../../../types.ts';

export const createHealthFilter: FilterFactory = (params) => {
  const allowStale = params.allowStale !== false;
  return {
    name: 'health',
    keep: (v) =>
      v.state.loaded &&
      !v.state.warming &&
      v.state.health !== 'unhealthy' &&
      (allowStale || v.state.health === 'healthy'),
  } satisfies Filter;
};
