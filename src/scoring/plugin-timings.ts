/**
 * The engine's per-plugin timings, read off the counters the compiled profiles carry: the fused
 * filter pass, each scorer and the picker per profile, plus the shared prefix-index walk.
 */
import type { CompiledProfile } from './compile.ts';

/** Accumulated time and calls of one plugin. */
export interface PluginTiming {
  profile: string;
  kind: 'filter' | 'scorer' | 'picker' | 'index';
  name: string;
  calls: number;
  totalMs: number;
}

/** Every plugin that ran at least once, profile by profile; the prefix index first, as profile `*`. */
export function pluginTimings(
  profiles: ReadonlyMap<string, CompiledProfile>,
  index: { calls: number; totalMs: number },
): PluginTiming[] {
  const out: PluginTiming[] = [{ profile: '*', kind: 'index', name: 'prefix-index', ...index }];
  for (const [name, p] of profiles) {
    out.push({ profile: name, kind: 'filter', ...p.filterTiming });
    for (const s of p.scorers)
      out.push({ profile: name, kind: 'scorer', name: s.name, calls: s.calls, totalMs: s.totalMs });
    out.push({ profile: name, kind: 'picker', name: p.picker.name, ...p.pickerTiming });
  }
  return out.filter((t) => t.calls > 0);
}
