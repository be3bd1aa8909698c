/**
 * The vLLM adapter: one scrape reads `/metrics`, `/v1/models` and `/health` concurrently and
 * returns one `ModelState` per model.
 *
 * - A model is every id of /v1/models (`loaded: true`) plus any `model_name` seen only in metrics
 *   (`loaded: false`). A listed model without series of its own — a LoRA adapter, or a second
 *   `--served-model-name` — shares its engine with its `parent` (or with the only model the metrics
 *   name), so it gets that model's load signals: its requests join the same queue and KV cache.
 * - /metrics or /v1/models failing fails the scrape. /health failing while those answer means the
 *   process is up but the engine is not ready: `warming: true`.
 * - Data-parallel servers (`engine` label): the records are the aggregate over engines; `engines()`
 *   gives the same records per engine, each from its own rate window.
 * - LoRA: a base model's `loraAdapters` are its /v1/models children plus the adapters
 *   `vllm:lora_requests_info` names; `control` loads and unloads adapters (lora-control.ts). Whether
 *   the runtime-update routes exist is asked once: `GET /v1/load_lora_adapter` answers 405 when
 *   the POST route is registered and 404 when it is not.
 */
import type { ModelState } from '../../../core/types.ts';
import {
  getAll,
  isOk,
  makeRecord,
  metricsRequest,
  recordBase,
  requiredJson,
  requiredMetrics,
  type RecordBase,
} from '../adapter-kit.ts';
import type { SendRequest } from '../control-http.ts';
import type { Exposition } from '../prometheus/index.ts';
import type { AdapterOptions, EngineModelState, RuntimeAdapter, ScrapeContext } from '../types.ts';
import { engineIds, engineView } from './engines.ts';
import { extractVllm, type VllmSnapshot } from './extract.ts';
import { createVllmLoraControl } from './lora-control.ts';
import { modelListSchema, type ServedModel } from './models.ts';
import type { WindowSignals } from '../rate-tracker.ts';
import { createVllmTracker, type VllmTracker } from './tracker.ts';

export interface VllmAdapterOptions extends AdapterOptions {
  /** For LoRA load/unload; without it the adapter has no `control`. */
  send?: SendRequest;
}

/** Which model's series a listed model reads (itself, its LoRA parent, or the server's only model). */
function sourceOf(model: ServedModel, snapshot: VllmSnapshot): string | undefined {
  if (snapshot.models.has(model.id)) return model.id;
  if (model.parent !== undefined && snapshot.models.has(model.parent)) return model.parent;
  return snapshot.models.size === 1 ? [...snapshot.models.keys()][0] : undefined;
}

interface Scraped {
  served: ServedModel[];
  warming: boolean;
  canLoad: boolean;
  now: number;
}

function records(base: RecordBase, snapshot: VllmSnapshot, derived: Map<string, WindowSignals>, s: Scraped) {
  const listed = new Map(s.served.map((m) => [m.id, m]));
  const ids = [...new Set([...listed.keys(), ...snapshot.models.keys()])];
  return ids.map((model): ModelState => {
    const entry = listed.get(model) ?? { id: model };
    const source = sourceOf(entry, snapshot);
    const r = source === undefined ? undefined : snapshot.models.get(source);
    const d = source === undefined ? undefined : derived.get(source);
    const isBase = entry.parent === undefined;
    const children = s.served.filter((m) => m.parent === model).map((m) => m.id);
    // The info gauge has no model_name: its adapters belong to the base model when there is one.
    const fromInfo = snapshot.models.size <= 1 ? (snapshot.loraAdapters ?? []) : [];
    const lora =
      isBase && (snapshot.loraAdapters !== undefined || children.length > 0)
        ? [...new Set([...children, ...fromInfo])].sort()
        : undefined;
    return makeRecord(
      base,
      {
        model,
        runtime: 'vllm',
        loaded: listed.has(model),
        warming: s.warming,
        queueDepth: r?.waiting,
        running: r?.running,
        kvCacheUsage: r?.kvCacheUsage,
        prefixCacheHitRate: d?.prefixCacheHitRate,
        requestRate: d?.requestRate,
        tokenRate: d?.tokenRate,
        ttftP95Ms: d?.ttftP95Ms,
        e2eP95Ms: d?.e2eP95Ms,
        itlP95Ms: d?.itlP95Ms,
        kvBlockSize: snapshot.kvBlockSize,
        kvBlocksTotal: snapshot.kvBlocksTotal,
        loraAdapters: lora,
        protocols: ['openai'],
        canLoad: s.canLoad,
        canUnload: s.canLoad,
      },
      s.now,
    );
  });
}

/** An adapter for one vLLM endpoint; it keeps the previous scrape to compute rates and p95s. */
export function createVllmAdapter(options: VllmAdapterOptions): RuntimeAdapter {
  const base = recordBase(options);
  const baseUrl = base.endpointUrl;
  const tracker = createVllmTracker(options);
  const engineTrackers = new Map<string, VllmTracker>();
  let loraRoutes: boolean | undefined;
  let lastEngines: EngineModelState[] = [];

  const perEngine = (exposition: Exposition, s: Scraped): EngineModelState[] =>
    engineIds(exposition).flatMap((engine) => {
      let t = engineTrackers.get(engine);
      if (!t) engineTrackers.set(engine, (t = createVllmTracker(options)));
      const snapshot = extractVllm(engineView(exposition, engine));
      return records(base, snapshot, t.update(snapshot.models, s.now), s).map((r) => ({ ...r, engine }));
    });

  return {
    async scrape({ signal, now }: ScrapeContext): Promise<ModelState[]> {
      const [metrics, models, health, lora] = await getAll(options.getText, signal, [
        metricsRequest(`${baseUrl}/metrics`, options),
        { url: `${baseUrl}/v1/models`, accept: 'application/json' },
        { url: `${baseUrl}/health` },
        ...(loraRoutes === undefined ? [{ url: `${baseUrl}/v1/load_lora_adapter` }] : []),
      ]);
      const exposition = requiredMetrics(metrics!, `${baseUrl}/metrics`);
      const list = requiredJson(models!, `${baseUrl}/v1/models`, modelListSchema, 'an OpenAI model list');
      if (lora?.status === 'fulfilled') loraRoutes = lora.value.status === 405;
      const s: Scraped = {
        served: list.data.map((m) => (m.parent ? { id: m.id, parent: m.parent } : { id: m.id })),
        warming: !isOk(health),
        canLoad: options.send !== undefined && loraRoutes === true,
        now,
      };
      const snapshot = extractVllm(exposition);
      const out = records(base, snapshot, tracker.update(snapshot.models, now), s);
      lastEngines = perEngine(exposition, s);
      return out;
    },
    engines: () => lastEngines.map((r) => ({ ...r })),
    ...(options.send ? { control: createVllmLoraControl(baseUrl, options.send) } : {}),
  };
}
