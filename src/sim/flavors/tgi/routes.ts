/**
 * The TGI flavour's HTTP API (TGI 3.x router, runtime-formats.md section 2): `POST /generate`,
 * `POST /generate_stream`, `POST /` (either, by `"stream"`), the OpenAI-compatible
 * `/v1/chat/completions` and `/v1/completions`, `GET /info`, `/health`, `/ping`, `/v1/models`
 * and `/metrics` with TGI's own names. Errors are TGI's `{"error", "error_type"}`; like TGI, more
 * than `max_concurrent_requests` at once are refused with 429 `overloaded`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveInference } from '../../inference-handler.ts';
import { parseInferenceRequest, SimHttpError } from '../../openai-request.ts';
import { readJson } from '../../read-json.ts';
import { applyFault, sendEmpty, sendJson, type FlavorContext, type FlavorRoutes } from '../common.ts';
import { serveGenerate } from './generate.ts';
import { renderTgiMetrics, TGI_METRICS_CONTENT_TYPE } from './metrics.ts';
import { parseTgiRequest, TgiError } from './request.ts';
import { createTgiStats } from './stats.ts';

/** The TGI version the flavour reports on `/info`. */
export const SIM_TGI_VERSION = '3.3.7';
/** TGI's `--max-concurrent-requests` default. */
const MAX_CONCURRENT_REQUESTS = 128;

const GET_PATHS = new Set(['/info', '/health', '/ping', '/metrics', '/v1/models', '/']);
const POST_PATHS = new Set(['/', '/generate', '/generate_stream', '/v1/chat/completions', '/v1/completions']);

export function createTgiRoutes(ctx: FlavorContext): FlavorRoutes {
  const { engine } = ctx;
  const maxTotalTokens = engine.maxModelLen;
  const stats = createTgiStats(maxTotalTokens - 1, maxTotalTokens);
  const createdSec = Math.floor(Date.now() / 1000);
  let inFlight = 0;

  const info = () => ({
    model_id: engine.model,
    model_sha: null,
    model_pipeline_tag: 'text-generation',
    max_concurrent_requests: MAX_CONCURRENT_REQUESTS,
    max_best_of: 2,
    max_stop_sequences: 4,
    max_input_tokens: maxTotalTokens - 1,
    max_total_tokens: maxTotalTokens,
    validation_workers: 2,
    max_client_batch_size: 4,
    router: 'text-generation-router',
    version: SIM_TGI_VERSION,
    sha: null,
    docker_label: null,
  });

  async function inference(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    inFlight++;
    res.on('close', () => inFlight--);
    const body = await readJson(req, ctx.maxBodyBytes);
    const fault = ctx.faults.take();
    const served = applyFault(fault, req, () =>
      sendJson(res, 500, new TgiError(500, 'generation', 'simulated fault: internal server error').body()),
    );
    if (!served) return;
    const resetMidStream = fault === 'reset-mid-stream';
    if (!body.ok) {
      return sendJson(
        res,
        body.status === 413 ? 413 : 422,
        new TgiError(422, 'validation', body.message).body(),
      );
    }
    if (path.startsWith('/v1/')) return openai(res, path, body.value, resetMidStream);
    stats.requests++;
    if (inFlight > MAX_CONCURRENT_REQUESTS) {
      stats.fail('overloaded');
      return sendJson(res, 429, new TgiError(429, 'overloaded', 'Model is overloaded').body());
    }
    try {
      const p = parseTgiRequest(body.value, maxTotalTokens);
      const stream =
        path === '/generate_stream' || (path === '/' && (body.value as { stream?: unknown }).stream === true);
      serveGenerate(res, engine, stats, p, { stream, resetMidStream });
    } catch (err) {
      if (!(err instanceof TgiError)) throw err;
      stats.fail('validation');
      sendJson(res, err.status, err.body());
    }
  }

  /** TGI's OpenAI-compatible routes; TGI serves one model, whatever `model` the body names. */
  function openai(res: ServerResponse, path: string, body: unknown, resetMidStream: boolean): void {
    const kind = path === '/v1/chat/completions' ? 'chat' : 'completion';
    try {
      const named = typeof body === 'object' && body !== null ? { ...body, model: engine.model } : body;
      const parsed = parseInferenceRequest(kind, named, engine.model);
      serveInference(res, engine, parsed, { resetMidStream, nowSec: Math.floor(Date.now() / 1000) });
    } catch (err) {
      if (!(err instanceof SimHttpError)) throw err;
      sendJson(
        res,
        err.status === 400 ? 422 : err.status,
        new TgiError(422, 'validation', err.message).body(),
      );
    }
  }

  return async (req, res, path, method) => {
    if (method === 'POST' && POST_PATHS.has(path)) return inference(req, res, path);
    if (method !== 'GET') return sendEmpty(res, GET_PATHS.has(path) || POST_PATHS.has(path) ? 405 : 404);
    switch (path) {
      case '/info':
        return sendJson(res, 200, info());
      case '/':
      case '/health':
      case '/ping':
        return sendEmpty(res, 200);
      case '/metrics': {
        const text = renderTgiMetrics(engine, stats);
        res.writeHead(200, {
          'content-type': TGI_METRICS_CONTENT_TYPE,
          'content-length': Buffer.byteLength(text),
        });
        return void res.end(text);
      }
      case '/v1/models':
        return sendJson(res, 200, {
          object: 'list',
          data: [{ id: engine.model, object: 'model', created: createdSec, owned_by: engine.model }],
        });
      default:
        return sendEmpty(res, POST_PATHS.has(path) ? 405 : 404);
    }
  };
}
