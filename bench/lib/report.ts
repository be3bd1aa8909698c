/** Report helpers shared by the benchmarks: Markdown tables, number formats, target checks, files. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** A Markdown table. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** A number with `digits` decimals, or `–` when there is none. */
export function fmt(n: number | undefined, digits = 2): string {
  return n === undefined || !Number.isFinite(n) ? '–' : n.toFixed(digits);
}

/** An integer with thousands separators. */
export function int(n: number | undefined): string {
  return n === undefined || !Number.isFinite(n) ? '–' : Math.round(n).toLocaleString('en-US');
}

/** Percentile of a sorted ascending array (nearest rank); undefined when empty. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** One target of the issue, checked: what was measured against what was asked, and the verdict. */
export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | undefined;
  /** How far off, and the likely why, for a miss (or why it could not be judged). */
  note: string;
}

/** How a checked value reads: its unit, decimals, and the likely why of a miss. */
export interface CheckOptions {
  unit?: string;
  digits?: number;
  why?: string;
}

/**
 * A "higher is better" target: met when `value ≥ goal`; a miss says by how much. An undefined
 * value (a row that did not run) is not judged.
 */
export function atLeast(
  target: string,
  value: number | undefined,
  goal: number,
  { unit = '', digits = 2, why = '' }: CheckOptions = {},
): TargetCheck {
  if (value === undefined || !Number.isFinite(value))
    return { target, measured: '–', met: undefined, note: why || 'not measured' };
  const met = value >= goal;
  const under = goal === 0 ? '' : ` (${fmt((100 * (goal - value)) / goal, 0)}% under)`;
  const gap = met ? '' : `short by ${fmt(goal - value, digits)}${unit}${under}`;
  return { target, measured: `${fmt(value, digits)}${unit}`, met, note: joinNotes(gap, met ? '' : why) };
}

/** A "lower is better" target: met when `value ≤ goal`. */
export function atMost(
  target: string,
  value: number | undefined,
  goal: number,
  { unit = '', digits = 2, why = '' }: CheckOptions = {},
): TargetCheck {
  if (value === undefined || !Number.isFinite(value))
    return { target, measured: '–', met: undefined, note: why || 'not measured' };
  const met = value <= goal;
  const times = goal > 0 ? ` (${fmt(value / goal)}× the limit)` : '';
  const gap = met ? '' : `over by ${fmt(value - goal, digits)}${unit}${times}`;
  return { target, measured: `${fmt(value, digits)}${unit}`, met, note: joinNotes(gap, met ? '' : why) };
}

const joinNotes = (...parts: string[]) => parts.filter(Boolean).join('; ');

export function targetsTable(checks: TargetCheck[]): string {
  const verdict = (c: TargetCheck) => (c.met === undefined ? 'not judged' : c.met ? 'met' : '**missed**');
  return table(
    ['target', 'measured', 'verdict', 'by how much / why'],
    checks.map((c) => [c.target, c.measured, verdict(c), c.note || '']),
  );
}

/** Writes `NAME.json` and `NAME.md` into `dir` (created if needed); returns their paths. */
export function writeResults(dir: string, name: string, json: unknown, md: string): string[] {
  const out = resolve(dir);
  mkdirSync(out, { recursive: true });
  const files = [join(out, `${name}.json`), join(out, `${name}.md`)];
  writeFileSync(files[0]!, JSON.stringify(json, null, 2) + '\n');
  writeFileSync(files[1]!, md);
  return files;
}

/** Default results folder: bench/results beside this file's folder. */
export const RESULTS_DIR = new URL('../results/', import.meta.url).pathname;
