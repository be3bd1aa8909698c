/**
 * The simulator's HTTP server: vLLM's OpenAI-compatible API (`/v1/chat/completions`,
 * `/v1/completions`, `/v1/models`), its operational endpoints (`/health`, `/load`, `/version`,
 * `/metrics`) and fault-injection endpoints for tests: `/sim/fault` (inference requests fail) and
 * `/sim/gpu-fault` (the simulated GPU's readings, which meshd's `sim` GPU source reports). One engine per server,
 * on real timers unless a clock is injected. With `flavor: 'tgi' | 'triton'` the same engine
 * speaks that runtime's API instead (`flavors/`); `/sim/*` stays the same for every flavour.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listen } from '../core/listen.ts';
import { randomBytes } from 'node:crypto';
import type { SimulatorConfig } from '../core/config.ts';
import type { SimClock } from './clock.ts';
import { createSimEngine, type SimEngine } from './engine.ts';
import { createKvEventPublisher } from './kv-event-publisher.ts';
import type { SimKvEvent } from './kv-events.ts';
import { createFaultState, parseFault, type Fault, type FaultMode } from './faults.ts';
import { parseGpuFault, type GpuFault } from './gpu-fault.ts';
import { sendError, sendJson, serveInference } from './inference-handler.ts';
import { renderSimMetrics } from './metrics-page.ts';
import { parseInferenceRequest, SimHttpError } from './openai-request.ts';
import { PROM_CONTENT_TYPE } from './prom-text.ts';
import { readJson } from './read-json.ts';
import { createFlavorRoutes, type SimFlavor } from './flavors/index.ts';

/** The vLLM version the simulator reports on `/version`. */
export const SIM_VLLM_VERSION = '0.11.0';

/** Options: the `gpu.simulators[]` config entry (every field optional here) plus test knobs. */
export interface SimServerOptions extends Partial<SimulatorConfig> {
  host?: string;
  maxModelLen?: number;
  maxNumBatchedTokens?: number;
  enablePrefixCaching?: boolean;
  /** Per-token chance of a seeded early EOS (finish_reason `stop`); default 0. */
  stopProbability?: number;
  clock?: SimClock;
  /** Largest request body, bytes. Default 32 MiB. */
  maxBodyBytes?: number;
}

export interface SimServer {
  url: string;
  port: number;
  /** Which runtime's API this simulator speaks. */
  flavor: SimFlavor;
  engine: SimEngine;
  /** The KV-event sockets (`tcp://host:port`), when `kvEvents` is configured. */
  kvEvents?: { endpoint: string; replayEndpoint: string | undefined };
  setFault(fault: Fault): void;
  /** Readings forced onto the simulated GPU (`POST /sim/gpu-fault`); `{}` when it is fine. */
  gpuFault(): GpuFault;
  /** Stops accepting, aborts running requests, drops every connection. */
  close(): Promise<void>;
}

const INFERENCE_PATHS = new Map<string, 'chat' | 'completion'>([
  ['/v1/chat/completions', 'chat'],
  ['/v1/completions', 'completion'],
]);

/** Starts a simulator listening on `host:port` (port 0 picks a free one). */
export async function createSimServer(options: SimServerOptions = {}): Promise<SimServer> {
  // Opt-in KV events (vLLM's `--kv-events-config`): a ZeroMQ PUB + ROUTER replay publisher.
  const publisher = options.kvEvents
    ? await createKvEventPublisher({
        host: options.host ?? '127.0.0.1',
        port: options.kvEvents.port,
        ...(options.kvEvents.replayPort === undefined ? {} : { replayPort: options.kvEvents.replayPort }),
        topic: options.kvEvents.topic,
      })
    : undefined;
  const engine = createSimEngine({
    ...(publisher ? { onKvEvents: (events: SimKvEvent[]) => publisher.publish(events) } : {}),
    model: options.model ?? 'sim-llama-3-8b',
    profile: options.profile ?? 'h100',
    // Unset limits are sized by the engine from the profile's GPU (sizing.ts).
    ...(options.maxNumSeqs === undefined ? {} : { maxNumSeqs: options.maxNumSeqs }),
    ...(options.kvBlocks === undefined ? {} : { kvBlocks: options.kvBlocks }),
    timeScale: options.timeScale ?? 1,
    seed: options.seed ?? 1,
    ...(options.maxModelLen === undefined ? {} : { maxModelLen: options.maxModelLen }),
    ...(options.maxNumBatchedTokens === undefined
      ? {}
      : { maxNumBatchedTokens: options.maxNumBatchedTokens }),
    ...(options.enablePrefixCaching === undefined
      ? {}
      : { enablePrefixCaching: options.enablePrefixCaching }),
    ...(options.stopProbability === undefined ? {} : { stopProbability: options.stopProbability }),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const faults = createFaultState();
  let gpuFault: GpuFault = {};
  const createdSec = Date.now() / 1000;
  const maxBody = options.maxBodyBytes ?? 32 * 1024 * 1024;
  const sockets = new Set<Socket>();
  let inFlight = 0;
  const flavor: SimFlavor = options.flavor ?? 'vllm';
  // TGI and Triton answer every path but the simulator's own `/sim/*` with their own API.
  const flavorRoutes =
    flavor === 'vllm' ? undefined : createFlavorRoutes(flavor, { engine, faults, maxBodyBytes: maxBody });

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, new SimHttpError(500, 'InternalServerError', String(err)));
      else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    if (flavorRoutes && !path.startsWith('/sim/')) return flavorRoutes(req, res, path, method);
    const kind = INFERENCE_PATHS.get(path);
    if (kind) {
      if (method !== 'POST') return sendJson(res, 405, { detail: 'Method Not Allowed' });
      return inference(kind, req, res);
    }
    if (path === '/reset_prefix_cache' && method === 'POST') {
      engine.resetPrefixCache();
      res.writeHead(200, { 'content-length': 0 });
      return void res.end();
    }
    if (path === '/sim/fault') {
      if (method === 'GET') return sendJson(res, 200, faults.current());
      if (method !== 'POST') return sendJson(res, 405, { detail: 'Method Not Allowed' });
      const body = await readJson(req, maxBody);
      const fault = body.ok ? parseFault(body.value) : 'malformed JSON';
      if (typeof fault === 'string') return sendError(res, new SimHttpError(400, 'BadRequestError', fault));
      return sendJson(res, 200, faults.set(fault));
    }
    if (path === '/sim/gpu-fault') {
      if (method === 'GET') return sendJson(res, 200, gpuFault);
      if (method !== 'POST') return sendJson(res, 405, { detail: 'Method Not Allowed' });
      const body = await readJson(req, maxBody);
      const fault = body.ok ? parseGpuFault(body.value) : 'malformed JSON';
      if (typeof fault === 'string') return sendError(res, new SimHttpError(400, 'BadRequestError', fault));
      gpuFault = fault;
      return sendJson(res, 200, gpuFault);
    }
    if (method !== 'GET' && !(path === '/ping' && method === 'POST')) {
      return sendJson(res, path in GET_ROUTES ? 405 : 404, {
        detail: path in GET_ROUTES ? 'Method Not Allowed' : 'Not Found',
      });
    }
    switch (path) {
      case '/health':
      case '/ping':
        res.writeHead(200, { 'content-length': 0 });
        return void res.end();
      case '/load':
        return sendJson(res, 200, { server_load: inFlight });
      case '/version':
        return sendJson(res, 200, { version: SIM_VLLM_VERSION });
      case '/metrics': {
        const text = renderSimMetrics(engine, createdSec);
        res.writeHead(200, { 'content-type': PROM_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
        return void res.end(text);
      }
      case '/v1/models':
        return sendJson(res, 200, modelsBody(engine, Math.floor(createdSec)));
      case '/sim/stats':
        return sendJson(res, 200, engine.stats());
      default:
        return sendJson(res, 404, { detail: 'Not Found' });
    }
  }

  async function inference(
    kind: 'chat' | 'completion',
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    inFlight++;
    res.on('close', () => inFlight--);
    const body = await readJson(req, maxBody);
    const fault: FaultMode = faults.take();
    if (fault === 'reset-before-headers') return void req.socket.destroy();
    if (fault === 'hang') return; // the socket stays open until the client or close() ends it
    if (fault === 'error-500') {
      return sendError(
        res,
        new SimHttpError(500, 'InternalServerError', 'simulated fault: internal server error'),
      );
    }
    if (!body.ok) return sendError(res, new SimHttpError(body.status, 'BadRequestError', body.message));
    try {
      const parsed = parseInferenceRequest(kind, body.value, engine.model);
      serveInference(res, engine, parsed, {
        resetMidStream: fault === 'reset-mid-stream',
        nowSec: Math.floor(Date.now() / 1000),
      });
    } catch (err) {
      if (err instanceof SimHttpError) return sendError(res, err);
      throw err;
    }
  }

  const { url, port } = await listen(server, { host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  let closing: Promise<void> | undefined;

  return {
    url,
    port,
    flavor,
    engine,
    ...(publisher
      ? { kvEvents: { endpoint: publisher.endpoint, replayEndpoint: publisher.replayEndpoint } }
      : {}),
    setFault(fault) {
      const checked = parseFault(fault);
      if (typeof checked === 'string') throw new TypeError(checked);
      faults.set(checked);
    },
    gpuFault: () => gpuFault,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        engine.close();
        for (const s of sockets) s.destroy();
      }).then(() => publisher?.close());
      return closing;
    },
  };
}

const GET_ROUTES: Record<string, true> = {
  '/health': true,
  '/ping': true,
  '/load': true,
  '/version': true,
  '/metrics': true,
  '/v1/models': true,
  '/sim/stats': true,
};

function modelsBody(engine: SimEngine, created: number): object {
  return {
    object: 'list',
    data: [
      {
        id: engine.model,
        object: 'model',
        created,
        owned_by: 'vllm',
        root: engine.model,
        parent: null,
        max_model_len: engine.maxModelLen,
        permission: [
          {
            id: `modelperm-${randomBytes(16).toString('hex')}`,
            object: 'model_permission',
            created,
            allow_create_engine: false,
            allow_sampling: true,
            allow_logprobs: true,
            allow_search_indices: false,
            allow_view: true,
            allow_fine_tuning: false,
            organization: '*',
            group: null,
            is_blocking: false,
          },
        ],
      },
    ],
  };
}
