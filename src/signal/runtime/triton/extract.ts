/**
 * Reads Triton's metrics page (reference §3.2). Per-model series carry `model` and `version`; we sum
 * over versions. Latencies are cumulative microsecond counters: a mean per request needs the
 * request counter's delta in the same window (rate-tracker `meanPer`). GPU gauges are already
 * fractions (utilisation 0..1) or bytes/watts.
 */
import { byLabel, counter, gauge, histogram, joinByModel, lookupOf, type Lookup } from '../metric-readers.ts';
import type { Exposition } from '../prometheus/index.ts';
import type { CounterReading, HistogramReading } from '../window.ts';

export const TRITON_METRICS = {
  pending: 'nv_inference_pending_request_count',
  success: 'nv_inference_request_success',
  inferences: 'nv_inference_count',
  executions: 'nv_inference_exec_count',
  requestUs: 'nv_inference_request_duration_us',
  queueUs: 'nv_inference_queue_duration_us',
  /** Decoupled models with `--metrics-config histogram_latencies=true`, in ms. */
  firstResponseMs: 'nv_inference_first_response_histogram_ms',
  gpuUtil: 'nv_gpu_utilization',
  gpuMemTotal: 'nv_gpu_memory_total_bytes',
  gpuMemUsed: 'nv_gpu_memory_used_bytes',
  gpuPower: 'nv_gpu_power_usage',
} as const;

export interface TritonReadings {
  pending?: number;
  success?: CounterReading;
  inferences?: CounterReading;
  executions?: CounterReading;
  requestUs?: CounterReading;
  queueUs?: CounterReading;
  firstResponse?: HistogramReading;
}

/** One GPU as Triton reports it (`gpu_uuid` label). */
export interface TritonGpu {
  uuid: string;
  /** 0..1. */
  utilization?: number;
  /** used / total, 0..1. */
  memoryUsedFraction?: number;
  memoryUsedBytes?: number;
  memoryTotalBytes?: number;
  powerW?: number;
}

const model = byLabel('model');

/** Per-model readings of one page. */
export function extractTriton(exposition: Exposition): Map<string, TritonReadings> {
  const get = lookupOf(exposition);
  const M = TRITON_METRICS;
  return joinByModel<TritonReadings>({
    pending: gauge(get, M.pending, model),
    success: counter(get, M.success, model),
    inferences: counter(get, M.inferences, model),
    executions: counter(get, M.executions, model),
    requestUs: counter(get, M.requestUs, model),
    queueUs: counter(get, M.queueUs, model),
    firstResponse: histogram(get, M.firstResponseMs, model),
  });
}

function perGpu(get: Lookup, name: string): Map<string, number> {
  return gauge(get, name, byLabel('gpu_uuid'));
}

/** Triton's per-GPU gauges, for the GPU side of the signal plane (no ModelState field holds them). */
export function extractTritonGpus(exposition: Exposition): TritonGpu[] {
  const get = lookupOf(exposition);
  const M = TRITON_METRICS;
  const util = perGpu(get, M.gpuUtil);
  const total = perGpu(get, M.gpuMemTotal);
  const used = perGpu(get, M.gpuMemUsed);
  const power = perGpu(get, M.gpuPower);
  const uuids = new Set([...util.keys(), ...total.keys(), ...used.keys(), ...power.keys()]);
  return [...uuids].sort().map((uuid) => {
    const gpu: TritonGpu = { uuid };
    const u = util.get(uuid);
    if (u !== undefined) gpu.utilization = Math.min(1, Math.max(0, u));
    const t = total.get(uuid);
    const m = used.get(uuid);
    if (t !== undefined) gpu.memoryTotalBytes = t;
    if (m !== undefined) gpu.memoryUsedBytes = m;
    if (t !== undefined && m !== undefined && t > 0) gpu.memoryUsedFraction = Math.min(1, m / t);
    const p = power.get(uuid);
    if (p !== undefined) gpu.powerW = p;
    return gpu;
  });
}
