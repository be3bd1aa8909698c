/**
 * Data-parallel vLLM servers label every series with `engine` ("0", "1", …). The aggregate record
 * sums them away; this cuts one page into one view per engine, so the same extraction gives one
 * record per engine too. Series without an `engine` label (`lora_requests_info`) belong to every view.
 */
import type { Exposition, MetricFamily } from '../prometheus/index.ts';

/** The engine ids a page names, sorted numerically where they are numbers. */
export function engineIds(exposition: Exposition): string[] {
  const ids = new Set<string>();
  for (const family of exposition.families)
    for (const s of family.samples) if (s.labels.engine !== undefined) ids.add(s.labels.engine);
  return [...ids].sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
}

/** The page as one engine sees it. */
export function engineView(exposition: Exposition, engine: string): Exposition {
  const families: MetricFamily[] = exposition.families.map((f) => ({
    ...f,
    samples: f.samples.filter((s) => s.labels.engine === undefined || s.labels.engine === engine),
  }));
  const byName = new Map(families.map((f) => [f.name, f]));
  return { families, family: (name) => byName.get(name) };
}
