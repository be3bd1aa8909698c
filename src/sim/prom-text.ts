/**
 * A small renderer of the Prometheus text format (0.0.4) that reproduces what Python's
 * prometheus_client prints for vLLM: floats in Python `repr` form with Go-style exponents for large
 * values (`3.0`, `0.05`, `1.7537953269352946e+09`), label names sorted, and a separate `_created`
 * gauge family after each counter and histogram. prom-client cannot emit `_created` families, so
 * the simulator renders its page itself.
 */
import type { Histogram } from './histogram.ts';

/** The content type vLLM's /metrics answers with. */
export const PROM_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pythonFloatRepr(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const [mant = '', expStr = '0'] = v.toExponential().split('e');
  const exp = Number(expStr);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let out: string;
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    out = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp < 0) {
    out = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    out = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  } else {
    out = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return neg ? `-${out}` : out;
}

/** prometheus_client's `floatToGoString`: `+Inf`/`NaN`, and exponent form once 7+ integer digits. */
export function formatValue(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Number.isNaN(v)) return 'NaN';
  const s = pythonFloatRepr(v);
  const dot = s.indexOf('.');
  if (v > 0 && dot > 6) {
    const mantissa = `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/[0.]+$/, '');
    return `${mantissa}e+0${dot - 1}`;
  }
  return s;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function renderLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`).join(',')}}`;
}

/** Builds one exposition page, family by family. */
export interface PromWriter {
  gauge(name: string, help: string, series: readonly (readonly [Labels, number])[]): void;
  /** `name` without `_total`; writes `name_total` (counter) and `name_created` (gauge). */
  counter(
    name: string,
    help: string,
    series: readonly (readonly [Labels, number])[],
    createdSec: number,
  ): void;
  histogram(
    name: string,
    help: string,
    series: readonly (readonly [Labels, Histogram])[],
    createdSec: number,
  ): void;
  text(): string;
}

export function createPromWriter(): PromWriter {
  const lines: string[] = [];
  const header = (name: string, help: string, type: string) => {
    lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  };
  const sample = (name: string, labels: Labels, v: number) =>
    lines.push(`${name}${renderLabels(labels)} ${formatValue(v)}`);
  const created = (name: string, help: string, labelSets: readonly Labels[], createdSec: number) => {
    header(`${name}_created`, help, 'gauge');
    for (const l of labelSets) sample(`${name}_created`, l, createdSec);
  };
  return {
    gauge(name, help, series) {
      header(name, help, 'gauge');
      for (const [l, v] of series) sample(name, l, v);
    },
    counter(name, help, series, createdSec) {
      header(`${name}_total`, help, 'counter');
      for (const [l, v] of series) sample(`${name}_total`, l, v);
      created(
        name,
        help,
        series.map(([l]) => l),
        createdSec,
      );
    },
    histogram(name, help, series, createdSec) {
      header(name, help, 'histogram');
      for (const [l, h] of series) {
        let cum = 0;
        h.buckets.forEach((le, i) => {
          cum += h.counts[i] ?? 0;
          sample(`${name}_bucket`, { ...l, le: formatValue(le) }, cum);
        });
        sample(`${name}_bucket`, { ...l, le: '+Inf' }, h.count);
        sample(`${name}_count`, l, h.count);
        sample(`${name}_sum`, l, h.sum);
      }
      created(
        name,
        help,
        series.map(([l]) => l),
        createdSec,
      );
    },
    text: () => `${lines.join('\n')}\n`,
  };
}
