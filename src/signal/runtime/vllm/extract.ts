/**
 * Reads one vLLM /metrics page into per-model readings. Gauges are summed (queue, running) or
 * averaged (KV usage) over the `engine` label, so a data-parallel server gives one number per
 * model; counters and histograms keep their series so the tracker can spot a restarted engine.
 */
import { samplesByName, seriesKey, parseValue, type Exposition, type Sample } from '../prometheus/index.ts';
import type { CounterReading, HistogramReading, HistogramPoint } from '../window.ts';
import { VLLM_METRICS as M, createdNameOf } from './metric-names.ts';

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

type Lookup = (name: string) => Sample[];

const modelOf = (s: Sample) => s.labels.model_name;

function sumGauge(get: Lookup, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of get(name)) {
    const model = modelOf(s);
    if (model !== undefined && Number.isFinite(s.value)) out.set(model, (out.get(model) ?? 0) + s.value);
  }
  return out;
}

function meanGauge(get: Lookup, name: string): Map<string, number> {
  const acc = new Map<string, { sum: number; n: number }>();
  for (const s of get(name)) {
    const model = modelOf(s);
    if (model === undefined || !Number.isFinite(s.value)) continue;
    const a = acc.get(model) ?? { sum: 0, n: 0 };
    a.sum += s.value;
    a.n++;
    acc.set(model, a);
  }
  return new Map([...acc].map(([model, a]) => [model, Math.min(1, Math.max(0, a.sum / a.n))]));
}

function counters(get: Lookup, name: string): Map<string, CounterReading> {
  const created = new Map(get(createdNameOf(name)).map((s) => [seriesKey(s.labels), s.value]));
  const out = new Map<string, CounterReading>();
  for (const s of get(name)) {
    const model = modelOf(s);
    if (model === undefined) continue;
    let reading = out.get(model);
    if (!reading) out.set(model, (reading = { name, series: new Map() }));
    const key = seriesKey(s.labels);
    const at = created.get(key);
    reading.series.set(key, at === undefined ? { value: s.value } : { value: s.value, created: at });
  }
  return out;
}

function histograms(get: Lookup, base: string): Map<string, HistogramReading> {
  const created = new Map(get(`${base}_created`).map((s) => [seriesKey(s.labels), s.value]));
  const out = new Map<string, HistogramReading>();
  for (const s of get(`${base}_bucket`)) {
    const model = modelOf(s);
    const le = parseValue(s.labels.le ?? '');
    if (model === undefined || le === undefined || Number.isNaN(le)) continue;
    let reading = out.get(model);
    if (!reading) out.set(model, (reading = { name: base, series: new Map() }));
    const key = seriesKey(s.labels, 'le');
    let point: HistogramPoint | undefined = reading.series.get(key);
    if (!point) {
      point = { buckets: [] };
      const at = created.get(key);
      if (at !== undefined) point.created = at;
      reading.series.set(key, point);
    }
    point.buckets.push({ le, count: s.value });
  }
  for (const reading of out.values())
    for (const p of reading.series.values()) p.buckets.sort((a, b) => a.le - b.le);
  return out;
}

/** Per model, the first name of `names` that the model has samples under (V1 name before its old name). */
function firstPresent<T>(names: readonly string[], read: (name: string) => Map<string, T>): Map<string, T> {
  const out = new Map<string, T>();
  for (const name of names)
    for (const [model, value] of read(name)) if (!out.has(model)) out.set(model, value);
  return out;
}

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
  const byName = samplesByName(exposition);
  // prometheus_client's OpenMetrics output writes `vllm_x` for `vllm:x`; the exact name is tried first.
  const get: Lookup = (name) => byName.get(name) ?? byName.get(name.replaceAll(':', '_')) ?? [];
  const models = new Map<string, VllmModelReadings>();
  const assign = <K extends Exclude<keyof VllmModelReadings, 'model'>>(
    key: K,
    perModel: Map<string, VllmModelReadings[K]>,
  ) => {
    for (const [model, value] of perModel) {
      let readings = models.get(model);
      if (!readings) models.set(model, (readings = { model }));
      readings[key] = value;
    }
  };
  assign('running', sumGauge(get, M.running));
  assign('waiting', sumGauge(get, M.waiting));
  assign(
    'kvCacheUsage',
    firstPresent(M.kvUsage, (n) => meanGauge(get, n)),
  );
  assign('prefixHitRateV0', meanGauge(get, M.prefixHitRateV0));
  assign('requests', counters(get, M.requestSuccess));
  assign('promptTokens', counters(get, M.promptTokens));
  assign('generationTokens', counters(get, M.generationTokens));
  assign('ttft', histograms(get, M.ttft));
  assign('e2e', histograms(get, M.e2e));
  assign(
    'itl',
    firstPresent(M.itl, (n) => histograms(get, n)),
  );
  // Hits and queries must come from the same generation of names, so the queries pick the pair.
  const prefixQueries = firstPresent(M.prefixQueries, (n) => counters(get, n));
  const hitsByName = new Map(M.prefixHits.map((n) => [n as string, counters(get, n)]));
  const prefixHits = new Map<string, CounterReading>();
  for (const [model, queries] of prefixQueries) {
    const hitsName = M.prefixHits[(M.prefixQueries as readonly string[]).indexOf(queries.name)];
    const hits = hitsName === undefined ? undefined : hitsByName.get(hitsName)?.get(model);
    if (hits) prefixHits.set(model, hits);
  }
  assign('prefixQueries', prefixQueries);
  assign('prefixHits', prefixHits);
  const lora = loraInfo(get);
  return { models, ...cacheConfig(get), ...(lora ? { loraAdapters: lora } : {}) };
}
