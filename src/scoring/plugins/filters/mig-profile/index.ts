/**
 * MIG-profile compatibility: a request that needs a MIG slice (`3g.40gb`) goes to an instance at
 * least that large, or to a whole GPU. Profiles read `<compute>g.<memory>gb`.
 */
import type { Filter, FilterFactory } from '../../../types.ts';

/** Parses `3g.40gb` → [3, 40]; undefined when the text is not a MIG profile. */
function parseMigProfile(p: string): [number, number] | undefined {
  const m = /^(\d+)g\.(\d+)gb$/.exec(p.trim().toLowerCase());
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export const createMigProfileFilter: FilterFactory = (params) => {
  const exact = params.exact === true;
  const wholeGpuOk = params.wholeGpu !== false;
  return {
    name: 'mig-profile',
    keep(v, req) {
      if (!req.migProfile) return true;
      const gpu = v.gpu;
      if (!gpu) return false; // a requirement cannot be checked without the GPU: do not guess
      if (!gpu.migProfile) return wholeGpuOk && !gpu.migMode;
      if (exact) return gpu.migProfile === req.migProfile;
      const need = parseMigProfile(req.migProfile);
      const have = parseMigProfile(gpu.migProfile);
      return !!need && !!have && have[0] >= need[0] && have[1] >= need[1];
    },
  } satisfies Filter;
};
