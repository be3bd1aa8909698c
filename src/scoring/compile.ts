/**
 * Turns profile specs into runnable pipelines: looks every plugin type up in the registry, builds
 * it with its parameters, and precomputes the weight vector of each SLO class (and, on first use,
 * of each SLO policy's weight overrides). Every problem in every profile is reported together as
 * one `invalid_config` error.
 */
import { MeshError } from '../core/errors.ts';
import { STANDARD_FILTERS, type ProfileSpec } from './profiles.ts';
import type { PluginRegistry } from './registry.ts';
import type { Filter, Picker, PluginDeps, Scorer, ScorerWeights, SloClass } from './types.ts';

interface Timed {
  calls: number;
  totalMs: number;
}

/** A weight per scorer (in the profile's scorer order) and their sum. */
export interface WeightVector {
  values: Float64Array;
  sum: number;
}

/** One profile ready to run: its plugins built, their timing counters, its weights per SLO class. */
export interface CompiledProfile {
  /** The filters in order; the engine runs them fused, in one pass over the candidates. */
  filterPlugins: readonly Filter[];
  /** The fused filter pass is timed as one; its name joins the filters' names. */
  filterTiming: Timed & { name: string };
  scorers: (Timed & { name: string; plugin: Scorer; weight: number })[];
  picker: { name: string; plugin: Picker };
  pickerTiming: Timed;
  /**
   * The weights for a request of `slo`, with `overrides` (an SLO policy's) over the class's own.
   * Each overrides object is compiled once and then found by identity, so a decision allocates nothing.
   */
  weights(slo: SloClass | undefined, overrides?: ScorerWeights): WeightVector;
}

/** Compiles every profile by name; throws one `invalid_config` that lists every problem found. */
export function compileProfiles(
  specs: Readonly<Record<string, ProfileSpec>>,
  registry: PluginRegistry,
  deps: PluginDeps,
): Map<string, CompiledProfile> {
  const problems: string[] = [];
  const out = new Map<string, CompiledProfile>();
  for (const [profileName, spec] of Object.entries(specs)) {
    const build = <T>(
      kind: 'filters' | 'scorers' | 'pickers',
      type: string,
      params: Record<string, unknown>,
    ) => {
      const factory = registry[kind].get(type) as
        ((p: Record<string, unknown>, d: PluginDeps) => T) | undefined;
      if (!factory) {
        problems.push(`profile "${profileName}": unknown ${kind.slice(0, -1)} type "${type}"`);
        return undefined;
      }
      return factory(params, deps);
    };
    const filters: { name: string; plugin: Filter }[] = [];
    for (const f of spec.filters ?? STANDARD_FILTERS) {
      const plugin = build<Filter>('filters', f.type, f.params ?? {});
      if (plugin) filters.push({ name: f.name ?? f.type, plugin });
    }
    const scorers: CompiledProfile['scorers'] = [];
    for (const s of spec.scorers ?? []) {
      const plugin = build<Scorer>('scorers', s.type, s.params ?? {});
      if (plugin)
        scorers.push({ name: s.name ?? s.type, plugin, weight: s.weight ?? 1, calls: 0, totalMs: 0 });
    }
    const pickerSpec = spec.picker ?? { type: 'max-score' };
    const picker = build<Picker>('pickers', pickerSpec.type, pickerSpec.params ?? {});
    const names = new Set(scorers.map((s) => s.name));
    for (const [slo, overrides] of Object.entries(spec.sloClasses ?? {})) {
      for (const n of Object.keys(overrides ?? {})) {
        if (!names.has(n))
          problems.push(`profile "${profileName}": sloClasses.${slo} names unknown scorer "${n}"`);
      }
    }
    if (!picker) continue;
    const vector = (slo?: SloClass, overrides?: ScorerWeights): WeightVector => {
      const o = slo ? spec.sloClasses?.[slo] : undefined;
      const values = Float64Array.from(scorers, (s) => overrides?.[s.name] ?? o?.[s.name] ?? s.weight);
      return { values, sum: values.reduce((a, b) => a + b, 0) };
    };
    const base = { none: vector(), latency: vector('latency'), throughput: vector('throughput') };
    // Per class: an SLO rule's weights object → its vector. Weak: replaced rules go with their objects.
    const compiled: Record<keyof typeof base, WeakMap<ScorerWeights, WeightVector>> = {
      none: new WeakMap(),
      latency: new WeakMap(),
      throughput: new WeakMap(),
    };
    const weights = (slo: SloClass | undefined, overrides?: ScorerWeights): WeightVector => {
      const key = slo ?? 'none';
      if (!overrides) return base[key];
      let w = compiled[key].get(overrides);
      if (!w) compiled[key].set(overrides, (w = vector(slo, overrides)));
      return w;
    };
    out.set(profileName, {
      filterPlugins: filters.map((f) => f.plugin),
      filterTiming: { name: filters.map((f) => f.name).join('+') || 'none', calls: 0, totalMs: 0 },
      scorers,
      picker: { name: pickerSpec.name ?? pickerSpec.type, plugin: picker },
      pickerTiming: { calls: 0, totalMs: 0 },
      weights,
    });
  }
  if (problems.length > 0) {
    throw new MeshError('invalid_config', `invalid scoring profiles:\n  ${problems.join('\n  ')}`, {
      problems,
    });
  }
  return out;
}
