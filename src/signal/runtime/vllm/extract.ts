/**
 * Reads one vLLM /metrics page into per-model readings. Gauges are summed (queue, running) or
 * averaged (KV usage) over the `engine` label, so a data-parallel server gives one number per
 * model; counters and histograms keep their series so the tracker can spot a restarted engine.
 */
import {
  byLabel,
  counter,
  createdOf,
  firstOf,
  gauge,
  histogram,
  joinByModel,
  lookupOf,
  type Lookup,
} from '../metric-readers.ts';
import type { Exposition, Sample } from '../prometheus/index.ts';
import type { CounterReading, HistogramReading } from '../window.ts';
import { VLLM_METRICS as M } from './metric-names.ts';

/** What one scrape says about one model (`model_name` label). Absent = not exposed. */
export interface VllmModelReadings {
  model: string;
  running?: number;
  waiting?: number;
  kvCacheUsage?: number;
  prefixHitRateV0?: number;
  requests?: CounterReading;
  promptTokens?: CounterReading;
  generationTokens?: CounterReading;
  prefixHits?: CounterReading;
  prefixQueries?: CounterReading;
  ttft?: HistogramReading;
  e2e?: HistogramReading;
  itl?: HistogramReading;
}

export interface VllmSnapshot {
  models: Map<string, VllmModelReadings>;
  /** From `vllm:cache_config_info` (no `model_name`: one engine config serves every model of the server). */
  kvBlockSize?: number;
  /** Summed over engines: each data-parallel engine has its own blocks. */
  kvBlocksTotal?: number;
  /**
   * From `vllm:lora_requests_info` (only with `--enable-lora`; no `model_name`): adapters with
   * running or waiting requests, from the series with the newest timestamp value.
   */
  loraAdapters?: string[];
}

const model = byLabel('model_name');

/** A ratio gauge averaged over engines and clamped to 0..1. */
const meanFraction = (get: Lookup, name: string) =>
  new Map([...gauge(get, name, model, 'mean')].map(([m, v]) => [m, Math.min(1, Math.max(0, v))]));

const counters = (get: Lookup, name: string) => counter(get, name, model, createdOf(name));

function cacheConfig(get: Lookup): Pick<VllmSnapshot, 'kvBlockSize' | 'kvBlocksTotal'> {
  const out: Pick<VllmSnapshot, 'kvBlockSize' | 'kvBlocksTotal'> = {};
  const perEngine = new Map<string, number>();
  for (const s of get(M.cacheConfig)) {
    const blockSize = Number(s.labels.block_size);
    if (out.kvBlockSize === undefined && Number.isInteger(blockSize) && blockSize > 0)
      out.kvBlockSize = blockSize;
    const blocks = Number(s.labels.num_gpu_blocks); // "None" before the engine profiled memory
    if (Number.isInteger(blocks) && blocks > 0) perEngine.set(s.labels.engine ?? '', blocks);
  }
  if (perEngine.size > 0) out.kvBlocksTotal = [...perEngine.values()].reduce((a, b) => a + b, 0);
  return out;
}

/** prometheus_client keeps every label set the info gauge ever had; its value is the time it was set. */
function loraInfo(get: Lookup): string[] | undefined {
  let latest: Sample | undefined;
  for (const s of get(M.loraInfo)) if (!latest || s.value >= latest.value) latest = s;
  if (!latest) return undefined;
  const names = [latest.labels.running_lora_adapters, latest.labels.waiting_lora_adapters]
    .flatMap((list) => (list ?? '').split(','))
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  return [...new Set(names)].sort();
}

/** Extracts every model's readings from a parsed vLLM /metrics page (text or OpenMetrics names). */
export function extractVllm(exposition: Exposition): VllmSnapshot {
  // prometheus_client's OpenMetrics output writes `vllm_x` for `vllm:x`; the exact name is tried first.
  const get = lookupOf(exposition, (name) => name.replaceAll(':', '_'));
  // Hits and queries must come from the same generation of names, so the queries pick the pair.
  const prefixQueries = firstOf(M.prefixQueries, (n) => counters(get, n));
  const hitsByName = new Map(M.prefixHits.map((n) => [n as string, counters(get, n)]));
  const prefixHits = new Map<string, CounterReading>();
  for (const [m, queries] of prefixQueries) {
    const hitsName = M.prefixHits[(M.prefixQueries as readonly string[]).indexOf(queries.name)];
    const hits = hitsName === undefined ? undefined : hitsByName.get(hitsName)?.get(m);
    if (hits) prefixHits.set(m, hits);
  }
  const models = joinByModel<VllmModelReadings>(
    {
      running: gauge(get, M.running, model),
      waiting: gauge(get, M.waiting, model),
      kvCacheUsage: firstOf(M.kvUsage, (n) => meanFraction(get, n)),
      prefixHitRateV0: meanFraction(get, M.prefixHitRateV0),
      requests: counters(get, M.requestSuccess),
      promptTokens: counters(get, M.promptTokens),
      generationTokens: counters(get, M.generationTokens),
      ttft: histogram(get, M.ttft, model),
      e2e: histogram(get, M.e2e, model),
      itl: firstOf(M.itl, (n) => histogram(get, n, model)),
      prefixQueries,
      prefixHits,
    },
    (m) => ({ model: m }),
  );
  const lora = loraInfo(get);
  return { models, ...cacheConfig(get), ...(lora ? { loraAdapters: lora } : {}) };
}
