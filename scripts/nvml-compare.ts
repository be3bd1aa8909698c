/**
 * Proof of the NVML adapter on a real GPU host: reads every GPU through the adapter (koffi on the
 * host's libnvidia-ml.so.1), then asks `nvidia-smi --query-gpu` for the same fields moments later,
 * and compares field by field. Several rounds, because idle clocks and power move between two
 * readings taken milliseconds apart. Prints one JSON document.
 *
 * Usage: node scripts/nvml-compare.ts [--lib PATH] [--rounds N]
 * (on a GPU host without Node tooling, bundle it: see docs/GPU-PROOF.md).
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import type { GpuState } from '../src/core/gpu.ts';
import { createNvmlSource } from '../src/signal/gpu/nvml/adapter.ts';
import { parseQueryCsv, QUERY_FIELDS } from '../src/signal/gpu/nvidia-smi/csv.ts';

const { values } = parseArgs({
  options: { lib: { type: 'string' }, rounds: { type: 'string', default: '3' } },
});

type Field = keyof GpuState;
/** Allowed |nvml − nvidia-smi| per field; absent = must be equal. */
const TOLERANCE: Partial<Record<Field, number>> = {
  // nvidia-smi prints MiB, NVML bytes.
  memoryUsedBytes: 1024 * 1024,
  memoryTotalBytes: 1024 * 1024,
  temperatureC: 1,
  // "accurate to within +/- 5 watts" (nvidia-smi --help-query-gpu), and a later sample.
  powerWatts: 5,
  powerLimitWatts: 0.01,
  smUtilization: 0.05,
  memoryUtilization: 0.05,
};
const FIELDS: Field[] = [
  'uuid',
  'index',
  'name',
  'smUtilization',
  'memoryUtilization',
  'memoryUsedBytes',
  'memoryTotalBytes',
  'temperatureC',
  'powerWatts',
  'powerLimitWatts',
  'smClockMHz',
  'throttleReasons',
  'eccVolatileUncorrected',
  'eccVolatileCorrected',
  'migMode',
];

function same(field: Field, a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number')
    return Math.abs(a - b) <= (TOLERANCE[field] ?? 0) + 1e-9;
  return JSON.stringify(a) === JSON.stringify(b);
}

function smi(args: string[]): string {
  return execFileSync('nvidia-smi', args, { encoding: 'utf8', timeout: 20_000 });
}

const source = await createNvmlSource({ node: 'proof', libraryPath: values.lib });
const rounds: unknown[] = [];
const summary: Record<string, { matched: number; rounds: number }> = {};
try {
  for (let r = 0; r < Number(values.rounds); r++) {
    const t0 = Date.now();
    const nvml = (await source.read()).filter((g) => !g.parentUuid);
    const csv = smi([`--query-gpu=${QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits']);
    const t1 = Date.now();
    const viaSmi = parseQueryCsv(csv, { node: 'proof', now: t1 });
    const gpus = nvml.map((g) => {
      const other = viaSmi.find((s) => s.uuid === g.uuid);
      const fields = Object.fromEntries(
        FIELDS.map((f) => {
          const match = other !== undefined && same(f, g[f], other[f]);
          const key = `${g.uuid}.${f}`;
          summary[key] = { matched: (summary[key]?.matched ?? 0) + (match ? 1 : 0), rounds: r + 1 };
          return [f, { nvml: g[f] ?? null, nvidiaSmi: other?.[f] ?? null, match }];
        }),
      );
      return { uuid: g.uuid, fields };
    });
    rounds.push({ round: r, msBetween: t1 - t0, csv: csv.trim(), gpus });
    await new Promise((res) => setTimeout(res, 1000));
  }
} finally {
  await source.close();
}

const driver = smi(['--query-gpu=driver_version,name', '--format=csv,noheader']).trim();
const mismatched = Object.entries(summary).filter(([, s]) => s.matched === 0);
process.stdout.write(
  JSON.stringify(
    {
      date: new Date().toISOString(),
      driverAndName: driver,
      memoryApi: source.memoryApi,
      tolerance: TOLERANCE,
      fieldsMatchedInAtLeastOneRound: mismatched.length === 0,
      neverMatched: mismatched.map(([k]) => k),
      summary,
      rounds,
    },
    null,
    2,
  ) + '\n',
);
