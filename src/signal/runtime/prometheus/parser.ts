/**
 * Prometheus text format (0.0.4 / 1.0.0) and OpenMetrics 1.0 parser.
 *
 * Why our own: npm's parsers break on labelled histograms and on vLLM's colon names. This one
 * groups `_bucket/_sum/_count/_total/_created` samples under the family their `# TYPE` line
 * declares, is lenient where real exporters differ (label order, blanks, trailing commas, CRLF,
 * duplicate HELP) and strict where a lenient reading would mislead (conflicting TYPEs, bad values,
 * text after `# EOF`). It throws nothing but `PromParseError` and runs in time linear in the input.
 */
import { LineCursor, isMetricName, scanSample, unescapeHelp } from './line-scanner.ts';
import { PromParseError } from './parse-error.ts';
import {
  METRIC_TYPES,
  type Exposition,
  type MetricFamily,
  type MetricType,
  type ParseOptions,
  type Sample,
} from './types.ts';

/** Sample-name suffixes each family type owns ('' = the family name itself). */
const SUFFIXES: Record<MetricType, readonly string[]> = {
  counter: ['', '_total', '_created'],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  summary: ['', '_sum', '_count', '_created'],
  untyped: [''],
  unknown: [''],
  info: ['_info', ''],
  stateset: [''],
  gaugehistogram: ['_bucket', '_gsum', '_gcount'],
};
const ALL_SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created', '_gsum', '_gcount', '_info'];

interface Entry {
  family: MetricFamily;
  /** Whether a `# TYPE` line set the type (an implicit family may still get one). */
  typed: boolean;
  /** prometheus_client's OpenMetrics output writes `vllm_x_total` under `# TYPE vllm:x counter`. */
  underscored: string;
}

const isType = (word: string): word is MetricType => (METRIC_TYPES as readonly string[]).includes(word);

/** Picks the format from an HTTP Content-Type (`application/openmetrics-text…` → openmetrics, else text). */
export function formatFromContentType(contentType: string | undefined): 'text' | 'openmetrics' {
  return contentType?.toLowerCase().includes('application/openmetrics-text') ? 'openmetrics' : 'text';
}

/** Parses an exposition body. Throws `PromParseError` (with the 1-based line) and nothing else. */
export function parsePrometheus(text: string, options: ParseOptions = {}): Exposition {
  if (typeof text !== 'string') throw new PromParseError('input is not a string', 0);
  const openMetrics = options.format === 'openmetrics';
  const implicitType: MetricType = openMetrics ? 'unknown' : 'untyped';
  const families: MetricFamily[] = [];
  const byName = new Map<string, Entry>();
  let current: Entry | undefined;
  let eofLine = 0;

  const entryFor = (name: string): Entry => {
    let entry = byName.get(name);
    if (!entry) {
      const family: MetricFamily = { name, type: implicitType, samples: [] };
      entry = { family, typed: false, underscored: name.replaceAll(':', '_') };
      families.push(family);
      byName.set(name, entry);
    }
    return entry;
  };

  const accepts = (entry: Entry, name: string): boolean => {
    for (const suffix of SUFFIXES[entry.family.type]) {
      if (name === entry.family.name + suffix || name === entry.underscored + suffix) return true;
    }
    return false;
  };

  const resolve = (name: string): Entry => {
    if (current && accepts(current, name)) return current;
    const exact = byName.get(name);
    if (exact) return exact;
    for (const suffix of ALL_SUFFIXES) {
      if (!name.endsWith(suffix)) continue;
      const base = byName.get(name.slice(0, -suffix.length));
      if (base && SUFFIXES[base.family.type].includes(suffix)) return base;
    }
    return entryFor(name);
  };

  const metadata = (cur: LineCursor): void => {
    cur.pos++; // '#'
    cur.skipBlanks();
    const keyword = cur.token();
    if (keyword === 'EOF') {
      cur.skipBlanks();
      if (!cur.done) cur.fail('unexpected text after # EOF');
      eofLine = cur.lineNo;
      return;
    }
    if (keyword !== 'HELP' && keyword !== 'TYPE' && keyword !== 'UNIT') return; // a plain comment
    if (cur.skipBlanks() === 0) return; // `# HELPER …` is a comment too
    const name = cur.token();
    if (!isMetricName(name)) cur.fail(`invalid metric name "${name.slice(0, 60)}" in # ${keyword}`);
    cur.skipBlanks();
    const rest = cur.text.slice(cur.pos);
    const entry = entryFor(name);
    current = entry;
    if (keyword === 'HELP') {
      entry.family.help ??= unescapeHelp(rest);
    } else if (keyword === 'UNIT') {
      entry.family.unit ??= rest.trimEnd();
    } else {
      const type = rest.trimEnd();
      if (!isType(type)) cur.fail(`unknown metric type "${type.slice(0, 40)}"`);
      if (entry.typed && entry.family.type !== type)
        cur.fail(`conflicting # TYPE for "${name}": ${entry.family.type} then ${type}`);
      entry.family.type = type;
      entry.typed = true;
    }
  };

  let lineNo = 0;
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo++;
    const lineEnd = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    const cur = new LineCursor(text.slice(start, lineEnd), lineNo);
    start = end + 1;
    cur.skipBlanks();
    if (cur.done) continue;
    if (eofLine > 0) cur.fail(`content after # EOF (line ${eofLine})`);
    if (cur.peek() === 35) {
      metadata(cur);
      continue;
    }
    const sample: Sample = scanSample(cur, openMetrics);
    const entry = resolve(sample.name);
    entry.family.samples.push(sample);
    current = entry;
  }
  if (openMetrics && eofLine === 0) throw new PromParseError('missing # EOF (truncated body?)', lineNo);

  return { families, family: (name) => byName.get(name)?.family };
}
