/**
 * Renders families back to exposition text. Used by the round-trip property tests and by fakes
 * that serve metrics; meshd's own /metrics page is rendered by prom-client, not by this.
 */
import type { ExpositionFormat, Labels, MetricFamily, Sample } from './types.ts';

const escapeLabel = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
const escapeHelp = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');

/** Formats a value the way Prometheus writes it (`NaN`, `+Inf`, `-Inf`, `-0` kept). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (Object.is(value, -0)) return '-0';
  return String(value);
}

function renderLabels(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length === 0) return '';
  return `{${names.map((n) => `${n}="${escapeLabel(labels[n] ?? '')}"`).join(',')}}`;
}

function renderSample(sample: Sample, format: ExpositionFormat): string {
  const scale = format === 'openmetrics' ? 1000 : 1;
  let line = `${sample.name}${renderLabels(sample.labels)} ${formatValue(sample.value)}`;
  if (sample.timestamp !== undefined) line += ` ${formatValue(sample.timestamp / scale)}`;
  const ex = sample.exemplar;
  if (ex) {
    line += ` # ${renderLabels(ex.labels) || '{}'} ${formatValue(ex.value)}`;
    if (ex.timestamp !== undefined) line += ` ${formatValue(ex.timestamp / 1000)}`;
  }
  return line;
}

/** Renders families in order; OpenMetrics output ends with `# EOF`. */
export function renderPrometheus(
  families: readonly MetricFamily[],
  options: { format?: ExpositionFormat } = {},
): string {
  const format = options.format ?? 'text';
  const lines: string[] = [];
  for (const family of families) {
    if (family.help !== undefined) lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    if (family.unit !== undefined) lines.push(`# UNIT ${family.name} ${family.unit}`);
    for (const sample of family.samples) lines.push(renderSample(sample, format));
  }
  if (format === 'openmetrics') lines.push('# EOF');
  return `${lines.join('\n')}\n`;
}
