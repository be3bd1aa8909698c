/**
 * The nvidia-smi source: one long-running `nvidia-smi --query-gpu=… --format=csv,noheader,nounits
 * -lms N` child whose rows are parsed as they arrive, so a reading costs no process start. The
 * latest row per GPU is kept; `read()` returns them, plus MIG instances from `-q -x` and `-L`
 * for GPUs in MIG mode. The child is restarted (with a pause) if it exits; its stderr's last line
 * becomes the error `read()` reports while no rows arrive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { MeshError } from '../../../core/errors.ts';
import type { GpuState } from '../../../core/gpu.ts';
import { runCommand } from '../exec-source.ts';
import type { GpuSourceContext, GpuTelemetrySource } from '../types.ts';
import { QUERY_FIELDS, rowToGpuState } from './csv.ts';
import { migStates, parseListGpus, parseMigDevicesXml } from './xml.ts';

export interface NvidiaSmiSourceOptions extends GpuSourceContext {
  /** Binary; default `nvidia-smi` from PATH. */
  command?: string;
  /** `-lms` period. */
  intervalMs?: number;
  /** How long `read()` waits for the first rows after start. */
  firstRowTimeoutMs?: number;
  /** Pause before restarting a child that exited. */
  restartDelayMs?: number;
}

export function createNvidiaSmiSource(options: NvidiaSmiSourceOptions): GpuTelemetrySource {
  const command = options.command ?? 'nvidia-smi';
  const now = options.now ?? Date.now;
  const latest = new Map<string, GpuState>();
  let child: ChildProcess | undefined;
  let lastError: string | undefined;
  let closed = false;
  let restartTimer: NodeJS.Timeout | undefined;
  const waiters = new Set<() => void>();

  const start = () => {
    const args = [
      `--query-gpu=${QUERY_FIELDS.join(',')}`,
      '--format=csv,noheader,nounits',
      `-lms`,
      String(options.intervalMs ?? 1000),
    ];
    const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.on('error', (err: NodeJS.ErrnoException) => {
      lastError = err.code === 'ENOENT' ? `${command} is not on PATH` : `${command}: ${err.message}`;
    });
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const state = rowToGpuState(QUERY_FIELDS, line, { node: options.node, now: now() });
      if (!state) {
        // nvidia-smi prints its complaints (e.g. "Field ... is not a valid field") on stdout too.
        if (line.trim()) lastError = `${command}: ${line.trim()}`;
        return;
      }
      latest.set(state.uuid, state);
      lastError = undefined;
      for (const wake of waiters) wake();
    });
    createInterface({ input: proc.stderr }).on('line', (line) => {
      if (line.trim()) lastError = `${command}: ${line.trim()}`;
    });
    proc.on('close', (code) => {
      if (child === proc) child = undefined;
      if (closed) return;
      lastError ??= `${command} exited with status ${code}`;
      latest.clear();
      restartTimer = setTimeout(start, options.restartDelayMs ?? 2000);
      restartTimer.unref();
    });
  };

  const waitForRows = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      waiters.add(done);
    });

  const readMig = async (gpus: GpuState[]): Promise<GpuState[]> => {
    if (!gpus.some((g) => g.migMode)) return [];
    try {
      const [xml, listing] = await Promise.all([
        runCommand(command, ['-q', '-x'], 10_000),
        runCommand(command, ['-L'], 10_000).catch(() => ''),
      ]);
      return migStates(parseMigDevicesXml(xml), parseListGpus(listing), { node: options.node, now: now() });
    } catch {
      // MIG detail is extra: the GPUs' own rows still stand.
      return [];
    }
  };

  start();
  return {
    kind: 'nvidia-smi',
    async read() {
      if (closed) throw new MeshError('unavailable', 'nvidia-smi source is closed');
      if (latest.size === 0) await waitForRows(options.firstRowTimeoutMs ?? 5000);
      if (latest.size === 0)
        throw new MeshError('unavailable', lastError ?? `${command} printed no GPU rows yet`);
      const gpus = [...latest.values()].sort((a, b) => a.index - b.index);
      return [...gpus, ...(await readMig(gpus))];
    },
    close() {
      closed = true;
      clearTimeout(restartTimer);
      for (const wake of waiters) wake();
      const proc = child;
      if (!proc || proc.exitCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        const kill = setTimeout(() => proc.kill('SIGKILL'), 2000);
        proc.once('close', () => {
          clearTimeout(kill);
          resolve();
        });
        proc.kill('SIGTERM');
      });
    },
  };
}
