/**
 * Which runtime answers at a URL. Every probe is a harmless GET, all sent at once under one
 * deadline; the answers are then read in a fixed order, most specific fingerprint first, because
 * several runtimes share paths (`/v1/models` is OpenAI on vLLM/SGLang/TGI and TF Serving's status
 * API on TF Serving and OVMS; `/v2` is KServe on Triton and OVMS):
 *
 * 1. TGI — `GET /info` is JSON with `model_id` and `router: "text-generation-router"`.
 * 2. SGLang — `GET /get_model_info` is JSON with `model_path`.
 * 3. vLLM — `GET /version` is `{"version": …}` and `/metrics` has `vllm:` series (or /v1/models
 *    entries are `owned_by: "vllm"` when metrics are off).
 * 4. Triton — `GET /v2` server metadata names `triton`.
 * 5. OVMS — `GET /v2` names `OpenVINO Model Server`, or `GET /v1/config` is a status per model.
 * 6. TorchServe — `GET /ping` is `{"status": "Healthy"}` (or `Unhealthy`).
 * 7. TF Serving — `GET /v1/models/<model>` is a `model_version_status`, or a 404 whose error says
 *    `Servable not found` (TF Serving's wording for an unknown model).
 */
import { MeshError } from '../../core/errors.ts';
import type { RuntimeKind } from '../../core/types.ts';
import { ACCEPT_METRICS, MAX_METRICS_BODY, getAll, isOk, trimBase, type Answer } from './adapter-kit.ts';
import type { GetText } from './http.ts';

export interface Detection {
  runtime: RuntimeKind;
  /** The fingerprint that decided, for people (`meshd probe` prints it). */
  evidence: string;
}

const jsonOf = (a: Answer | undefined): Record<string, unknown> | undefined => {
  if (a?.status !== 'fulfilled') return undefined;
  try {
    const v: unknown = JSON.parse(a.value.body);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};
const okJson = (a: Answer | undefined) => (isOk(a) ? jsonOf(a) : undefined);

/**
 * Detects the runtime at `url`. `model` helps TF Serving (it cannot list models). Throws
 * `MeshError('not_found')` when nothing matches, `unavailable` when nothing answered at all.
 */
export async function detectRuntime(
  url: string,
  getText: GetText,
  signal: AbortSignal,
  model = 'infermesh-probe',
): Promise<Detection> {
  const base = trimBase(url);
  const paths = [
    '/info',
    '/get_model_info',
    '/version',
    '/metrics',
    '/v1/models',
    '/v2',
    '/v1/config',
    '/ping',
  ];
  const answers = await getAll(getText, signal, [
    ...paths.map((p) => ({
      url: `${base}${p}`,
      ...(p === '/metrics' ? { accept: ACCEPT_METRICS, maxBytes: MAX_METRICS_BODY } : {}),
    })),
    { url: `${base}/v1/models/${encodeURIComponent(model)}` },
  ]);
  const [info, modelInfo, version, metrics, models, v2, config, ping, tfs] = answers;
  const tgi = okJson(info);
  if (typeof tgi?.model_id === 'string' && tgi.router === 'text-generation-router')
    return { runtime: 'tgi', evidence: 'GET /info has model_id and router "text-generation-router"' };
  if (typeof okJson(modelInfo)?.model_path === 'string')
    return { runtime: 'sglang', evidence: 'GET /get_model_info has model_path' };
  const vllmMetrics =
    isOk(metrics) && metrics?.status === 'fulfilled' && /^vllm[:_]/m.test(metrics.value.body);
  const ownedByVllm =
    isOk(models) && models?.status === 'fulfilled' && models.value.body.includes('"owned_by":"vllm"');
  if (typeof okJson(version)?.version === 'string' && (vllmMetrics || ownedByVllm))
    return {
      runtime: 'vllm',
      evidence: `GET /version and ${vllmMetrics ? 'vllm: metrics' : 'owned_by "vllm" models'}`,
    };
  const meta = okJson(v2);
  if (meta?.name === 'triton') return { runtime: 'triton', evidence: 'GET /v2 server metadata names triton' };
  if (typeof meta?.name === 'string' && /openvino/i.test(meta.name))
    return { runtime: 'ovms', evidence: 'GET /v2 server metadata names OpenVINO Model Server' };
  const cfg = okJson(config);
  if (cfg && Object.values(cfg).some((v) => v && typeof v === 'object' && 'model_version_status' in v))
    return { runtime: 'ovms', evidence: 'GET /v1/config is a model status per model' };
  const pingStatus = jsonOf(ping)?.status;
  if (pingStatus === 'Healthy' || pingStatus === 'Unhealthy')
    return { runtime: 'torchserve', evidence: 'GET /ping is {"status": "Healthy"|"Unhealthy"}' };
  const status = jsonOf(tfs);
  if (
    (isOk(tfs) && Array.isArray(status?.model_version_status)) ||
    (typeof status?.error === 'string' && /servable/i.test(status.error))
  )
    return { runtime: 'tfserving', evidence: 'GET /v1/models/<model> is a TF Serving model status' };
  if (answers.every((a) => a.status === 'rejected')) {
    const reason: unknown = (answers[0] as PromiseRejectedResult).reason;
    throw new MeshError(
      'unavailable',
      `${base} does not answer: ${reason instanceof Error ? reason.message : String(reason)}`,
    );
  }
  throw new MeshError(
    'not_found',
    `no known runtime answers at ${base} (tried ${[...paths, '/v1/models/<model>'].join(', ')})`,
  );
}
