/**
 * `nvidia-smi --query-gpu=… --format=csv[,noheader][,nounits]` rows → `GpuState`. Cells are split
 * on ", " (names never contain it); any `[...]` cell (`[N/A]`, `[Not Supported]`,
 * `[Insufficient Permissions]`) and a bare `N/A` are absent. Units (`81559 MiB`, `127.32 W`) are
 * stripped when present, so rows with and without `nounits` read the same.
 */
import type { GpuState } from '../../../core/gpu.ts';
import { dropUndefined } from '../drop-undefined.ts';
import { decodeThrottleReasons, parseThrottleMask } from '../throttle-reasons.ts';

/**
 * The fields meshd asks for, in order. `clocks_throttle_reasons.active` rather than its newer
 * name `clocks_event_reasons.active`: drivers before 535 know only the old one, 580 takes both.
 */
export const QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'utilization.gpu',
  'utilization.memory',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
  'enforced.power.limit',
  'clocks.sm',
  'clocks_throttle_reasons.active',
  'ecc.errors.uncorrected.volatile.total',
  'ecc.errors.corrected.volatile.total',
  'mig.mode.current',
] as const;

/** Header spellings nvidia-smi prints for the aliases it accepts in `--query-gpu`. */
const ALIASES: Record<string, string> = {
  'clocks.current.sm': 'clocks.sm',
  'clocks_event_reasons.active': 'clocks_throttle_reasons.active',
  gpu_uuid: 'uuid',
  gpu_name: 'name',
  'gpu.power.current_limit': 'enforced.power.limit',
};

const MIB = 1024 * 1024;

/** A cell's text, or undefined for the not-available spellings. */
export function cell(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const t = raw.trim();
  if (t === '' || t === 'N/A' || /^\[.*\]$/.test(t)) return undefined;
  return t;
}

/** A numeric cell with its unit suffix (`%`, `MiB`, `W`, `MHz`) stripped; undefined when not a number. */
export function numberCell(raw: string | undefined): number | undefined {
  const t = cell(raw);
  if (t === undefined) return undefined;
  const m = /^(-?\d+(?:\.\d+)?)(?:\s*(?:%|MiB|W|MHz|C))?$/.exec(t);
  return m ? Number(m[1]) : undefined;
}

/** Normalises a header cell: `memory.used [MiB]` → `memory.used`, aliases → query names. */
function headerField(raw: string): string {
  const name = raw.replace(/\s*\[.*\]\s*$/, '').trim();
  return ALIASES[name] ?? name;
}

/** One row (split on ", ") under `fields` → a GpuState; undefined when the row has no usable UUID. */
export function rowToGpuState(
  fields: readonly string[],
  row: string,
  ctx: { node: string; now: number },
): GpuState | undefined {
  const cells = row.split(', ');
  if (cells.length !== fields.length) return undefined;
  const get = (f: string) => {
    const i = fields.indexOf(f);
    return i < 0 ? undefined : cells[i];
  };
  const uuid = cell(get('uuid'));
  const index = numberCell(get('index'));
  if (!uuid || index === undefined) return undefined;
  const pct = (f: string) => {
    const v = numberCell(get(f));
    return v === undefined ? undefined : v / 100;
  };
  const mib = (f: string) => {
    const v = numberCell(get(f));
    return v === undefined ? undefined : v * MIB;
  };
  const mask = cell(get('clocks_throttle_reasons.active'));
  const mig = cell(get('mig.mode.current'));
  const state: GpuState = {
    uuid,
    index,
    name: cell(get('name')) ?? '',
    node: ctx.node,
    smUtilization: pct('utilization.gpu'),
    memoryUtilization: pct('utilization.memory'),
    memoryUsedBytes: mib('memory.used'),
    memoryTotalBytes: mib('memory.total'),
    temperatureC: numberCell(get('temperature.gpu')),
    powerWatts: numberCell(get('power.draw')),
    powerLimitWatts: numberCell(get('enforced.power.limit')) ?? numberCell(get('power.limit')),
    smClockMHz: numberCell(get('clocks.sm')),
    eccVolatileUncorrected: numberCell(get('ecc.errors.uncorrected.volatile.total')),
    eccVolatileCorrected: numberCell(get('ecc.errors.corrected.volatile.total')),
    migMode: mig === undefined ? undefined : mig === 'Enabled',
    healthy: true,
    updatedAt: ctx.now,
    source: 'nvidia-smi',
  };
  const bits = mask === undefined ? undefined : parseThrottleMask(mask);
  if (bits !== undefined) state.throttleReasons = decodeThrottleReasons(bits);
  return dropUndefined(state);
}

/**
 * A whole `--format=csv` output. With a header (its first cell is a field name) the columns come
 * from it; without one they are `fields` (default QUERY_FIELDS). Bad rows are skipped.
 */
export function parseQueryCsv(
  text: string,
  ctx: { node: string; now: number },
  fields: readonly string[] = QUERY_FIELDS,
): GpuState[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  let columns = fields;
  if (lines[0] !== undefined && /^[a-z_.]+(\s*\[|,|$)/.test(lines[0]) && !/^\d/.test(lines[0])) {
    columns = lines.shift()!.split(', ').map(headerField);
  }
  return lines.flatMap((l) => rowToGpuState(columns, l, ctx) ?? []);
}
