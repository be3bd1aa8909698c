/**
 * `meshd gpus [--source S] [--url URL] [-o json|table]`: one reading of this host's GPUs, printed.
 * Without `--source` it picks the best source the host has (NVML, else nvidia-smi, else rocm-smi)
 * and says so when there is none. Exit status 1 when no source can read.
 */
import { Option, type Command } from 'commander';
import { GPU_SOURCES, type GpuState } from '../core/gpu.ts';
import { MeshError } from '../core/errors.ts';
import { createGpuTelemetrySource } from '../signal/gpu/select-source.ts';
import { simGpuUuid } from '../signal/gpu/sim/source.ts';
import { formatResult, useColor, type TableView } from '../cli/output.ts';

interface GpusOptions {
  source?: (typeof GPU_SOURCES)[number];
  url?: string;
  output: 'json' | 'table';
  nvmlLibrary?: string;
  node: string;
}

const pct = (v: number | undefined) => (v === undefined ? '-' : `${Math.round(v * 100)}%`);
const gib = (v: number | undefined) => (v === undefined ? '-' : (v / 1024 ** 3).toFixed(1));

/** The table view of a reading. */
function gpusTable(gpus: GpuState[]): TableView {
  return {
    head: [
      'IDX',
      'UUID',
      'NAME',
      'SM',
      'MEM USED/TOTAL GiB',
      'TEMP',
      'POWER/LIMIT W',
      'THROTTLE',
      'MIG',
      'HEALTHY',
    ],
    rows: gpus.map((g) => [
      g.parentUuid ? `${g.index}/${g.migProfile ?? 'mig'}` : g.index,
      g.uuid,
      g.name,
      pct(g.smUtilization),
      `${gib(g.memoryUsedBytes)}/${gib(g.memoryTotalBytes)}`,
      g.temperatureC === undefined ? '-' : `${g.temperatureC}C`,
      `${g.powerWatts?.toFixed(0) ?? '-'}/${g.powerLimitWatts?.toFixed(0) ?? '-'}`,
      g.throttleReasons?.join(',') || '-',
      g.migMode === undefined ? '-' : g.migMode ? 'on' : 'off',
      g.healthy ? 'yes' : 'no',
    ]),
  };
}

/** Reads once with the chosen source. Throws `unavailable` when no source can read. */
async function readGpus(opts: GpusOptions): Promise<{ source: string; gpus: GpuState[] }> {
  const source = await createGpuTelemetrySource({
    source: opts.source ?? 'auto',
    node: opts.node,
    url: opts.url,
    nvmlLibrary: opts.nvmlLibrary,
    simGpus: [{ uuid: simGpuUuid(opts.node, '0') }],
  });
  try {
    return { source: source.kind, gpus: await source.read() };
  } finally {
    await source.close();
  }
}

/** Adds `gpus` to meshd's program. */
export function registerGpusCommand(program: Command, node: () => string): void {
  program
    .command('gpus')
    .description(
      'read this host’s GPUs once (NVML, dcgm-exporter, nvidia-smi, rocm-smi or sim) and print them',
    )
    .addOption(
      new Option('--source <source>', 'telemetry source (default: the best this host has)').choices(
        GPU_SOURCES,
      ),
    )
    .option('--url <url>', 'dcgm-exporter metrics URL, for --source dcgm')
    .addOption(
      new Option('-o, --output <format>', 'output format').choices(['json', 'table']).default('table'),
    )
    .addOption(
      new Option('--nvml-library <path>', 'NVML library to load').default(process.env.INFERMESH_NVML_LIBRARY),
    )
    .action(async (opts: Omit<GpusOptions, 'node'>) => {
      try {
        const { source, gpus } = await readGpus({ ...opts, node: node() });
        if (opts.output === 'json') process.stdout.write(JSON.stringify({ source, gpus }, null, 2) + '\n');
        else {
          process.stdout.write(`source: ${source}\n`);
          process.stdout.write(
            formatResult({ gpus }, gpusTable(gpus), 'table', useColor(process.env, process.stdout.isTTY)),
          );
        }
      } catch (err) {
        const error = MeshError.from(err, 'unavailable');
        process.stderr.write(`meshd gpus: ${error.code}: ${error.message}\n`);
        process.exitCode = 1;
      }
    });
}
