/** The markdown report of a routing benchmark: one table per (trace, endpoints, load), plus the checks. */
import type { RunRow } from './main.ts';

const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '–');

export function renderMarkdown(meta: Record<string, unknown>, rows: readonly RunRow[]): string {
  const out: string[] = ['# Routing benchmark', ''];
  for (const [k, v] of Object.entries(meta))
    out.push(`- **${k}**: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  out.push('');
  const groups = new Map<string, RunRow[]>();
  for (const r of rows) {
    const key = `${r.trace} · ${r.endpoints} endpoints · load ${Math.round(r.load * 100)}%`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [key, group] of groups) {
    out.push(`## ${key} (offered ${f(group[0]!.offeredRps, 2)} req/s)`, '');
    out.push(
      '| strategy | TTFT p50 ms | p90 | p99 | e2e p99 ms | ITL mean ms | out tok/s | goodput req/s | goodput % | prefix hit % | 429 | 503 | preempt | decision p99 µs |',
    );
    out.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of group) {
      const s = r.summary;
      out.push(
        `| ${r.strategy} | ${f(s.ttftP50Ms)} | ${f(s.ttftP90Ms)} | ${f(s.ttftP99Ms)} | ${f(s.e2eP99Ms)} | ${f(s.itlMeanMs, 1)} | ${f(s.outputTokPerS)} | ${f(s.goodputRps, 2)} | ${f(s.goodputFrac * 100, 1)} | ${f(s.prefixHitRate * 100, 1)} | ${s.rejected429} | ${s.unavailable503} | ${r.preemptions} | ${f(r.decisionP99Us, 1)} |`,
      );
    }
    const def = group.find((r) => r.strategy === 'default');
    const base = group.filter((r) => r.strategy !== 'default');
    if (def && base.length > 0) {
      const bestP99 = Math.min(...base.map((r) => r.summary.ttftP99Ms));
      const bestGood = Math.max(...base.map((r) => r.summary.goodputRps));
      const lor = base.find((r) => r.strategy === 'least-outstanding');
      out.push('');
      out.push(
        `Default vs best baseline: TTFT p99 ${f(def.summary.ttftP99Ms)} vs ${f(bestP99)} ms (${def.summary.ttftP99Ms <= bestP99 * 1.05 ? 'beats or ties' : 'MISS'}); ` +
          `goodput ${f(def.summary.goodputRps, 2)} vs ${f(bestGood, 2)} req/s (${def.summary.goodputRps >= bestGood * 0.95 ? 'beats or ties' : 'MISS'})` +
          (lor
            ? `; TTFT p99 ÷ least-outstanding: ${f(lor.summary.ttftP99Ms / def.summary.ttftP99Ms, 2)}×`
            : ''),
      );
    }
    out.push('');
  }
  return out.join('\n') + '\n';
}
