/**
 * CPU core sets for pinning (`taskset -c` lists such as `0-3` or `8,10-11`), and the defaults the
 * benchmarks use: roles on disjoint cores on a 16-core box, everything shared on a smaller one.
 */
import { readFileSync } from 'node:fs';

/** A core set: its cores and their `taskset -c` list. */
export interface CoreSet {
  cores: number[];
  list: string;
}

/** Parses a `taskset -c` list (`0-3,8`) into sorted, distinct core numbers. */
export function parseCores(list: string): number[] {
  const out = new Set<number>();
  for (const part of list.split(',').map((p) => p.trim())) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`bad core list "${list}": expected e.g. 0-3 or 0,2,4-5`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new Error(`bad core range "${part}"`);
    for (let c = from; c <= to; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}

/** Formats cores back into the shortest `taskset -c` list. */
export function formatCores(cores: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cores.length;) {
    let j = i;
    while (j + 1 < cores.length && cores[j + 1] === cores[j]! + 1) j++;
    parts.push(i === j ? `${cores[i]}` : `${cores[i]}-${cores[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The cores this process may run on (its affinity mask, from /proc). */
export function allowedCores(): number[] {
  const status = readFileSync('/proc/self/status', 'utf8');
  const list = /^Cpus_allowed_list:\s*(\S+)/m.exec(status)?.[1];
  if (!list) throw new Error('no Cpus_allowed_list in /proc/self/status');
  return parseCores(list);
}

/** A core set from a flag's value; throws when it names a core this process may not use. */
export function coreSet(list: string): CoreSet {
  const cores = parseCores(list);
  const allowed = new Set(allowedCores());
  const missing = cores.filter((c) => !allowed.has(c));
  if (missing.length > 0) {
    throw new Error(`core list ${list} names cores not available here: ${formatCores(missing)}`);
  }
  return { cores, list: formatCores(cores) };
}

/** The first `n` cores of a set (the 1-core runs use the first core of the N-core set). */
export function firstCores(set: CoreSet, n: number): CoreSet {
  const cores = set.cores.slice(0, n);
  return { cores, list: formatCores(cores) };
}

/** Whether the machine has enough cores for the 16-core layout (`needed` distinct cores). */
export function hasCores(needed: number): boolean {
  return allowedCores().length >= needed;
}

/**
 * The default for a core-set flag, as positions in the list of cores this process may use (a
 * container's cores need not start at 0): `count` cores from `from` where at least `needed` are
 * usable, otherwise every usable core (a smoke test with shared cores, which the report says).
 */
export function defaultCores(from: number, count: number, needed = 16): string {
  const allowed = allowedCores();
  return formatCores(allowed.length >= needed ? allowed.slice(from, from + count) : allowed);
}

/** True when two sets share a core (the report flags shared cores: the numbers then mislead). */
export function overlaps(a: CoreSet, b: CoreSet): boolean {
  const set = new Set(a.cores);
  return b.cores.some((c) => set.has(c));
}
