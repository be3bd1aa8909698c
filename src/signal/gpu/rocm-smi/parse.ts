/**
 * `rocm-smi --showuse --showmemuse --showtemp --showpower --showmeminfo vram --json` → `GpuState`.
 * Every value is a string, `"N/A"` when absent, and key names differ between ROCm releases, so
 * each field lists the spellings it accepts, first match wins (see fixtures/README.md).
 */
import type { GpuState } from '../../../core/gpu.ts';
import { dropUndefined } from '../drop-undefined.ts';

/** The rocm-smi arguments meshd runs. */
export const ROCM_SMI_ARGS = [
  '--showuse',
  '--showmemuse',
  '--showtemp',
  '--showpower',
  '--showmeminfo',
  'vram',
  '--showclocks',
  '--showuniqueid',
  '--showproductname',
  '--json',
];

const KEYS = {
  name: ['Card Series', 'Device Name', 'Card SKU', 'Card Model'],
  uniqueId: ['Unique ID'],
  util: ['GPU use (%)'],
  // mem_busy_percent: memory-controller activity, the counterpart of NVML's memory utilisation.
  memBusy: ['GPU memory use (%)'],
  vramTotal: ['VRAM Total Memory (B)'],
  vramUsed: ['VRAM Total Used Memory (B)', 'GPU memory use'],
  vramAllocatedPct: ['GPU Memory Allocated (VRAM%)'],
  // Junction (hotspot) is the die's hottest point, what the GPU throttles on; edge where it is all there is.
  temp: ['Temperature (Sensor junction) (C)', 'Temperature (Sensor edge) (C)'],
  power: ['Average Graphics Package Power (W)', 'Current Socket Graphics Package Power (W)'],
  powerCap: ['Max Graphics Package Power (W)'],
  sclk: ['sclk clock speed:'],
} as const;

function pick(card: Record<string, unknown>, keys: readonly string[]): string | undefined {
  for (const k of keys) {
    const v = card[k];
    if (typeof v === 'string' && v.trim() !== '' && v.trim() !== 'N/A') return v.trim();
  }
  return undefined;
}

function numeric(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  // Clocks print as `(800Mhz)`; everything else is a bare number.
  const m = /^\(?(-?\d+(?:\.\d+)?)\s*(?:Mhz)?\)?$/i.exec(text);
  return m ? Number(m[1]) : undefined;
}

/**
 * Parses rocm-smi's JSON text. Non-card keys (`system`) are ignored; a body that is not a JSON
 * object gives an empty list rather than an exception (bad input never stops the agent).
 */
export function parseRocmSmiJson(text: string, ctx: { node: string; now: number }): GpuState[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return [];
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return [];
  const out: GpuState[] = [];
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    const m = /^card(\d+)$/.exec(key);
    if (!m || !value || typeof value !== 'object') continue;
    const card = value as Record<string, unknown>;
    const index = Number(m[1]);
    const uniqueId = pick(card, KEYS.uniqueId);
    const total = numeric(pick(card, KEYS.vramTotal));
    let used = numeric(pick(card, KEYS.vramUsed));
    const allocatedPct = numeric(pick(card, KEYS.vramAllocatedPct));
    if (used === undefined && allocatedPct !== undefined && total !== undefined)
      used = Math.round((total * allocatedPct) / 100);
    const pct = (keys: readonly string[]) => {
      const v = numeric(pick(card, keys));
      return v === undefined ? undefined : v / 100;
    };
    const state: GpuState = {
      // Without a unique id the card number is all there is; the node name keeps it unique in the mesh.
      uuid: uniqueId ? `AMD-${uniqueId.replace(/^0x/i, '')}` : `AMD-${ctx.node}-card${index}`,
      index,
      name: pick(card, KEYS.name) ?? '',
      node: ctx.node,
      smUtilization: pct(KEYS.util),
      memoryUtilization: pct(KEYS.memBusy),
      memoryUsedBytes: used,
      memoryTotalBytes: total,
      temperatureC: numeric(pick(card, KEYS.temp)),
      powerWatts: numeric(pick(card, KEYS.power)),
      powerLimitWatts: numeric(pick(card, KEYS.powerCap)),
      smClockMHz: numeric(pick(card, KEYS.sclk)),
      healthy: true,
      updatedAt: ctx.now,
      source: 'rocm-smi',
    };
    out.push(dropUndefined(state));
  }
  return out.sort((a, b) => a.index - b.index);
}
