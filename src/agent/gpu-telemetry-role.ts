/**
 * GPU telemetry on a gpu node: reads the configured source every `gpu.telemetry.intervalMs`,
 * passes each reading through the quarantine policy, stores the records in the GPU store and
 * exports the per-GPU gauges. A source that cannot start (no driver, no binary) is logged and
 * another is tried (`auto` order); with none, meshd keeps running without GPU telemetry. A failed
 * reading is logged and counted, never fatal.
 */
import type { MeshConfig } from '../core/config.ts';
import { MeshError } from '../core/errors.ts';
import type { GpuSource, GpuState } from '../core/gpu.ts';
import type { Logger } from '../observability/log.ts';
import type { MeshMetrics } from '../observability/metrics.ts';
import { createQuarantine, type Quarantine, type ReleaseEvent } from '../signal/gpu/quarantine/manager.ts';
import { createGpuTelemetrySource } from '../signal/gpu/select-source.ts';
import type { SimGpuFault, SimGpuSource } from '../signal/gpu/sim/source.ts';
import { simulatorGpus } from './endpoint-gpus.ts';
import type { GpuTelemetrySource } from '../signal/gpu/types.ts';
import type { GpuStore } from '../signal/state/gpu-store.ts';

export interface GpuTelemetryRole {
  /** The source in use; undefined when none could start. */
  source?: GpuTelemetrySource;
  quarantine: Quarantine;
  /** Operator release: clears the quarantine and stores the GPU back as healthy at once. */
  release(uuid: string): ReleaseEvent | undefined;
  stop(): Promise<void>;
}

async function openSource(
  config: MeshConfig,
  named: GpuSource | 'auto',
  logger: Logger,
  simGpuFault?: (simulator: string) => SimGpuFault | undefined,
): Promise<GpuTelemetrySource | undefined> {
  const t = config.gpu.telemetry;
  const base = {
    node: config.node.id,
    url: t.url,
    intervalMs: t.intervalMs,
    simGpus: config.gpu.simulators.flatMap((s) =>
      simulatorGpus(config.node.id, s).map((uuid) => ({
        uuid,
        name: `Simulated ${s.profile.toUpperCase()}`,
        fault: simGpuFault && (() => simGpuFault(s.name)),
      })),
    ),
  };
  try {
    return await createGpuTelemetrySource({ ...base, source: named });
  } catch (err) {
    const error = MeshError.from(err, 'unavailable');
    if (error.code === 'invalid_config') throw error;
    logger.error({ err: error, source: named }, 'GPU telemetry source cannot start');
    if (named === 'auto' || named === 'sim' || named === 'dcgm') return undefined;
  }
  // The named source failed (e.g. NVML without a driver): fall back to whatever this host has.
  try {
    const source = await createGpuTelemetrySource({ ...base, source: 'auto' });
    logger.warn({ source: source.kind }, 'GPU telemetry falls back to another source');
    return source;
  } catch (err) {
    logger.error({ err: MeshError.from(err) }, 'no GPU telemetry source: running without GPU telemetry');
    return undefined;
  }
}

/** Starts GPU telemetry when `gpu.telemetry.source` is not `none`; undefined otherwise. */
export async function startGpuTelemetryRole(
  config: MeshConfig,
  deps: {
    gpus: GpuStore;
    metrics: MeshMetrics;
    logger: Logger;
    /** The running simulators' `/sim/gpu-fault` readings, by simulator name (the gpu role's). */
    simGpuFault?: (simulator: string) => SimGpuFault | undefined;
  },
): Promise<GpuTelemetryRole | undefined> {
  const named = config.gpu.telemetry.source;
  if (named === 'none') return undefined;
  const logger = deps.logger.child({ component: 'gpu-telemetry' });
  const { metrics, gpus } = deps;
  const node = config.node.id;
  const source = await openSource(config, named, logger, deps.simGpuFault);
  const quarantine = createQuarantine({ policy: config.gpu.quarantine });
  // The GPUs of the last reading: one that drops out of a reading is removed from the store.
  let known = new Set<string>();

  quarantine.events.on('quarantined', (e) => {
    logger.warn({ gpu: e.uuid, reason: e.reason, detail: e.detail }, 'GPU quarantined');
    metrics.gpuQuarantined.set({ node, gpu_uuid: e.uuid, reason: e.reason }, 1);
  });
  quarantine.events.on('released', (e) => {
    logger.info({ gpu: e.uuid, reason: e.reason, by: e.by }, 'GPU released from quarantine');
    metrics.gpuQuarantined.remove({ node, gpu_uuid: e.uuid, reason: e.reason });
  });

  const gauges = (s: GpuState) => {
    const labels = { node, gpu_uuid: s.uuid };
    const set = (g: { set(l: typeof labels, v: number): void }, v: number | undefined) => {
      if (v !== undefined) g.set(labels, v);
    };
    set(metrics.gpuUtilization, s.smUtilization);
    set(metrics.gpuMemoryUsed, s.memoryUsedBytes);
    set(metrics.gpuMemoryTotal, s.memoryTotalBytes);
    set(metrics.gpuTemperature, s.temperatureC);
    set(metrics.gpuPower, s.powerWatts);
    set(metrics.gpuSmClock, s.smClockMHz === undefined ? undefined : s.smClockMHz * 1e6);
    set(metrics.gpuXidLast, s.xidLast ?? 0);
    const ecc = (type: 'corrected' | 'uncorrected', v: number | undefined) => {
      if (v !== undefined) metrics.gpuEccVolatile.set({ ...labels, type }, v);
    };
    ecc('corrected', s.eccVolatileCorrected);
    ecc('uncorrected', s.eccVolatileUncorrected);
  };

  let running: Promise<void> | undefined;
  const tick = async () => {
    if (!source) return;
    let readings: GpuState[];
    try {
      readings = await source.read();
      metrics.gpuTelemetryReads.inc({ source: source.kind, result: 'ok' });
    } catch (err) {
      metrics.gpuTelemetryReads.inc({ source: source.kind, result: 'error' });
      logger.warn({ err: MeshError.from(err) }, 'GPU telemetry reading failed');
      return;
    }
    const seen = new Set<string>();
    for (const s of quarantine.observe(readings.map((r) => ({ ...r, node })))) {
      seen.add(s.uuid);
      gpus.upsert(s);
      gauges(s);
    }
    for (const uuid of known) if (!seen.has(uuid)) gpus.remove(node, uuid);
    known = seen;
  };
  const tickOnce = () => (running ??= tick().finally(() => (running = undefined)));

  await tickOnce();
  const timer = setInterval(() => void tickOnce(), config.gpu.telemetry.intervalMs);
  timer.unref();
  logger.info({ source: source?.kind ?? 'none' }, 'GPU telemetry started');

  return {
    source,
    quarantine,
    release(uuid) {
      const event = quarantine.release(uuid);
      const stored = gpus.get(node, uuid);
      if (event && stored) {
        const { quarantineReason: _dropped, ...rest } = stored;
        gpus.upsert({ ...rest, healthy: true });
      }
      return event;
    },
    async stop() {
      clearInterval(timer);
      await running;
      await source?.close();
      for (const uuid of known) gpus.remove(node, uuid);
    },
  };
}

/** The sim source of a role, for tests and fault injection; undefined for other sources. */
export const simSourceOf = (role: GpuTelemetryRole | undefined): SimGpuSource | undefined =>
  role?.source?.kind === 'sim' ? (role.source as SimGpuSource) : undefined;
