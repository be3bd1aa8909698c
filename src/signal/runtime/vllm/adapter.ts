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
 */
import type { ModelState } from '../../../core/types.ts';
import type { GetText, TextResponse } from '../http.ts';
import { PromParseError, formatFromContentType, parsePrometheus } from '../prometheus/index.ts';
import { ScrapeError } from '../scrape-error.ts';
import type { RuntimeAdapter, ScrapeContext } from '../types.ts';
import { extractVllm, type VllmSnapshot } from './extract.ts';
import { parseModelList, type ServedModel } from './models.ts';
import { createVllmTracker, type VllmDerived } from './tracker.ts';

export interface VllmAdapterOptions {
  endpointId: string;
  node: string;
  /** Base URL of the vLLM server. */
  url: string;
  gpuType?: string;
  getText: GetText;
  /** Limit on the /metrics body (default 8 MiB). */
  maxMetricsBytes?: number;
  /** Passed to the tracker (see VllmTrackerOptions). */
  minWindowMs?: number;
}

// Plain text first: vLLM's /metrics renders text anyway, and OpenMetrics would rename `vllm:` to `vllm_`.
const ACCEPT_METRICS = 'text/plain;version=0.0.4;q=1,text/plain;version=1.0.0;q=0.9,*/*;q=0.1';
const MAX_SMALL_BODY = 1024 * 1024;

function signalFields(
  model: string,
  snapshot: VllmSnapshot,
  derived: VllmDerived | undefined,
): Partial<ModelState> {
  const r = snapshot.models.get(model);
  const out: Partial<ModelState> = {};
  const put = (key: keyof ModelState, value: number | undefined) => {
    if (value !== undefined) Object.assign(out, { [key]: value });
  };
  put('queueDepth', r?.waiting);
  put('running', r?.running);
  put('kvCacheUsage', r?.kvCacheUsage);
  put('prefixCacheHitRate', derived?.prefixCacheHitRate);
  put('requestRate', derived?.requestRate);
  put('tokenRate', derived?.tokenRate);
  put('ttftP95Ms', derived?.ttftP95Ms);
  put('e2eP95Ms', derived?.e2eP95Ms);
  put('kvBlockSize', snapshot.kvBlockSize);
  put('kvBlocksTotal', snapshot.kvBlocksTotal);
  return out;
}

/** Which model's series a listed model reads (itself, its LoRA parent, or the server's only model). */
function sourceOf(model: ServedModel, snapshot: VllmSnapshot): string | undefined {
  if (snapshot.models.has(model.id)) return model.id;
  if (model.parent !== undefined && snapshot.models.has(model.parent)) return model.parent;
  return snapshot.models.size === 1 ? [...snapshot.models.keys()][0] : undefined;
}

/** An adapter for one vLLM endpoint; it keeps the previous scrape to compute rates and p95s. */
export function createVllmAdapter(options: VllmAdapterOptions): RuntimeAdapter {
  const base = options.url.replace(/\/+$/, '');
  const tracker = createVllmTracker({ minWindowMs: options.minWindowMs });
  const maxMetricsBytes = options.maxMetricsBytes ?? 8 * 1024 * 1024;

  return {
    async scrape({ signal, now }: ScrapeContext): Promise<ModelState[]> {
      const [metrics, models, health] = await Promise.allSettled([
        options.getText(`${base}/metrics`, { signal, maxBytes: maxMetricsBytes, accept: ACCEPT_METRICS }),
        options.getText(`${base}/v1/models`, {
          signal,
          maxBytes: MAX_SMALL_BODY,
          accept: 'application/json',
        }),
        options.getText(`${base}/health`, { signal, maxBytes: MAX_SMALL_BODY }),
      ]);
      const answer = (res: PromiseSettledResult<TextResponse>, path: string): TextResponse => {
        if (res.status === 'rejected') throw ScrapeError.from(res.reason);
        const { status } = res.value;
        if (status < 200 || status > 299)
          throw new ScrapeError('http_status', `${base}${path} answered HTTP ${status}`, { status });
        return res.value;
      };
      const metricsBody = answer(metrics, '/metrics');
      const modelsBody = answer(models, '/v1/models');

      let snapshot: VllmSnapshot;
      try {
        const format = formatFromContentType(metricsBody.contentType);
        snapshot = extractVllm(parsePrometheus(metricsBody.body, { format }));
      } catch (err) {
        const where = err instanceof PromParseError ? ` (${err.message})` : '';
        throw new ScrapeError('parse', `${base}/metrics is not Prometheus text${where}`, { cause: err });
      }
      const served = parseModelList(modelsBody.body);
      if (!served) throw new ScrapeError('parse', `${base}/v1/models is not an OpenAI model list`);

      const derived = tracker.update(snapshot, now);
      const healthy =
        health.status === 'fulfilled' && health.value.status >= 200 && health.value.status <= 299;
      const listed = new Map(served.map((m) => [m.id, m]));
      const ids = [...new Set([...listed.keys(), ...snapshot.models.keys()])];
      return ids.map((model): ModelState => {
        const source = sourceOf(listed.get(model) ?? { id: model }, snapshot);
        const fields = source === undefined ? {} : signalFields(source, snapshot, derived.get(source));
        return {
          endpointId: options.endpointId,
          endpointUrl: base,
          node: options.node,
          model,
          runtime: 'vllm',
          health: 'healthy',
          loaded: listed.has(model),
          warming: !healthy,
          ...fields,
          ...(options.gpuType === undefined ? {} : { gpuType: options.gpuType }),
          updatedAt: now,
        };
      });
    },
  };
}
