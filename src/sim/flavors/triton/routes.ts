/**
 * The Triton flavour's HTTP API: KServe v2 / Open Inference Protocol (runtime-formats.md 3.1)
 * for one text model with one version, `1`. Health (`/v2/health/live|ready`), server and model
 * metadata, model readiness, `POST .../infer`, the model repository extension (index, load,
 * unload; like `--model-control-mode=explicit`) and Triton's metrics at `/metrics`. Errors are
 * `{"error": "..."}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FinishResult } from '../../engine.ts';
import { readJson } from '../../read-json.ts';
import {
  applyFault,
  sendEmpty,
  sendJson,
  sendJsonCut,
  type FlavorContext,
  type FlavorRoutes,
} from '../common.ts';
import { parseTritonInfer, TRITON_INPUTS, TritonError, type TritonInfer } from './infer.ts';
import { renderTritonMetrics, TRITON_METRICS_CONTENT_TYPE } from './metrics.ts';
import { createTritonStats } from './stats.ts';

/** The Triton version the flavour reports on `/v2`. */
export const SIM_TRITON_VERSION = '2.52.0';

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;
const REPO_PATH = /^\/v2\/repository\/models\/([^/]+)\/(load|unload)$/;

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

export function createTritonRoutes(ctx: FlavorContext): FlavorRoutes {
  const { engine } = ctx;
  const stats = createTritonStats();
  let loaded = true;

  /** Why `model`/`version` cannot serve, or undefined when it can. */
  const unavailable = (model: string, version: string | undefined): TritonError | undefined => {
    if (model !== engine.model)
      return new TritonError(400, `Request for unknown model: '${model}' is not found`);
    if (version !== undefined && version !== '1') {
      return new TritonError(400, `Request for unknown model: '${model}' version ${version} is not found`);
    }
    if (!loaded)
      return new TritonError(400, `Request for unknown model: '${model}' has no available versions`);
    return undefined;
  };

  const metadata = () => ({
    name: engine.model,
    versions: ['1'],
    platform: 'vllm',
    inputs: Object.entries(TRITON_INPUTS).map(([name, datatype]) => ({ name, datatype, shape: [1] })),
    outputs: [{ name: 'text_output', datatype: 'BYTES', shape: [-1] }],
  });

  async function infer(req: IncomingMessage, res: ServerResponse, model: string, version?: string) {
    const body = await readJson(req, ctx.maxBodyBytes);
    const fault = ctx.faults.take();
    const served = applyFault(fault, req, () =>
      sendJson(res, 500, new TritonError(500, 'simulated fault: internal server error').body()),
    );
    if (!served) return;
    const refused = unavailable(model, version);
    if (refused) return sendJson(res, refused.status, refused.body());
    if (!body.ok) return sendJson(res, body.status, new TritonError(body.status, body.message).body());
    let p: TritonInfer;
    try {
      p = parseTritonInfer(body.value, model);
    } catch (err) {
      if (!(err instanceof TritonError)) throw err;
      stats.failure.OTHER++;
      return sendJson(res, err.status, err.body());
    }
    run(res, p, fault === 'reset-mid-stream');
  }

  function run(res: ServerResponse, p: TritonInfer, resetMidStream: boolean): void {
    const startSim = engine.simNow();
    let firstSim: number | undefined;
    let id: string;
    let done: Promise<FinishResult>;
    try {
      ({ id, done } = engine.submit({
        promptTokenIds: p.promptTokenIds,
        maxTokens: p.maxTokens,
        onToken: () => void (firstSim ??= engine.simNow()),
      }));
    } catch (err) {
      stats.failure.BACKEND++;
      return sendJson(res, 400, new TritonError(400, (err as Error).message).body());
    }
    let finished = false;
    res.on('close', () => {
      if (!finished && engine.abort(id)) stats.failure.CANCELED++;
    });
    void done.then((r) => {
      finished = true;
      if (r.reason === 'abort' || res.destroyed) return;
      const endSim = engine.simNow();
      const first = firstSim ?? endSim;
      stats.success++;
      stats.count++;
      stats.execCount++;
      stats.requestUs += (endSim - startSim) * 1000;
      stats.queueUs += (first - startSim) * 1000;
      stats.computeInferUs += (endSim - first) * 1000;
      const answer = {
        ...(p.id === undefined ? {} : { id: p.id }),
        model_name: engine.model,
        model_version: '1',
        outputs: [
          {
            name: 'text_output',
            datatype: 'BYTES',
            shape: [1],
            data: [(p.excludeInput ? '' : p.prompt) + r.text],
          },
        ],
      };
      if (resetMidStream) sendJsonCut(res, 200, answer);
      else sendJson(res, 200, answer);
    });
  }

  async function repository(req: IncomingMessage, res: ServerResponse, model: string, action: string) {
    await readJson(req, ctx.maxBodyBytes); // the optional parameters change nothing here
    if (model !== engine.model) {
      const e = new TritonError(400, `failed to ${action} '${model}', failed to poll from model repository`);
      return sendJson(res, e.status, e.body());
    }
    loaded = action === 'load';
    return sendEmpty(res, 200);
  }

  async function index(req: IncomingMessage, res: ServerResponse) {
    const body = await readJson(req, ctx.maxBodyBytes);
    const readyOnly =
      body.ok && typeof body.value === 'object' && (body.value as { ready?: unknown })?.ready === true;
    const entry = loaded
      ? { name: engine.model, version: '1', state: 'READY' }
      : { name: engine.model, version: '1', state: 'UNAVAILABLE', reason: 'unloaded' };
    return sendJson(res, 200, readyOnly && !loaded ? [] : [entry]);
  }

  return async (req, res, path, method) => {
    const m = MODEL_PATH.exec(path);
    if (m) {
      const model = decode(m[1]!);
      const version = m[2] === undefined ? undefined : decode(m[2]);
      if (m[3] === '/infer') {
        if (method !== 'POST') return sendJson(res, 405, { error: 'Method Not Allowed' });
        return infer(req, res, model, version);
      }
      if (method !== 'GET') return sendJson(res, 405, { error: 'Method Not Allowed' });
      const refused = unavailable(model, version);
      if (m[3] === '/ready') return sendEmpty(res, refused ? 400 : 200);
      if (refused && model !== engine.model) return sendJson(res, refused.status, refused.body());
      return sendJson(res, 200, metadata());
    }
    const repo = REPO_PATH.exec(path);
    if (repo && method === 'POST') return repository(req, res, decode(repo[1]!), repo[2]!);
    if (path === '/v2/repository/index' && method === 'POST') return index(req, res);
    if (method !== 'GET') return sendJson(res, 404, { error: 'Not Found' });
    switch (path) {
      case '/v2/health/live':
        return sendEmpty(res, 200);
      case '/v2/health/ready':
        return sendEmpty(res, loaded ? 200 : 400);
      case '/v2':
        return sendJson(res, 200, {
          name: 'triton',
          version: SIM_TRITON_VERSION,
          extensions: [
            'classification',
            'model_repository',
            'schedule_policy',
            'model_configuration',
            'statistics',
          ],
        });
      case '/metrics': {
        const text = renderTritonMetrics(engine, stats, loaded);
        res.writeHead(200, {
          'content-type': TRITON_METRICS_CONTENT_TYPE,
          'content-length': Buffer.byteLength(text),
        });
        return void res.end(text);
      }
      default:
        return sendJson(res, 404, { error: 'Not Found' });
    }
  };
}
