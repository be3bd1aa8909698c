/**
 * A fake vLLM server for tests: real HTTP on port 0, serving whatever /metrics page and model list
 * the test sets, and misbehaving on demand (never answering, 5xx, truncated body, garbage). Ships
 * with the code so other suites can test against the same failures.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenLocal, sendTruncated } from './fake-http.ts';

export type FakeVllmMode =
  | 'ok'
  /** Accepts the connection and never answers. */
  | 'hang'
  /** /metrics answers 500. */
  | 'error500'
  /** /metrics declares more bytes than it sends, then drops the connection. */
  | 'truncate'
  /** /metrics answers 200 with an HTML page. */
  | 'garbage'
  /** /health answers 503 (engine not ready), everything else is fine. */
  | 'health503';

export interface FakeVllmServer {
  url: string;
  /** The /metrics body served in mode `ok`. */
  metrics: string;
  metricsContentType: string;
  /** The /v1/models body. */
  models: string;
  mode: FakeVllmMode;
  /** Requests seen per path. */
  hits: Map<string, number>;
  /**
   * Whether the LoRA routes are registered (vLLM with `VLLM_ALLOW_RUNTIME_LORA_UPDATING=True`):
   * then GET answers 405 and POST loads/unloads into `loras`; else FastAPI's 404.
   */
  loraRoutes: boolean;
  /** LoRA adapters loaded through the API: name → path. */
  loras: Map<string, string>;
  close(): Promise<void>;
}

/** A /v1/models body like vLLM's, for the given ids (`{ id, parent }` for LoRA adapters). */
export function vllmModelList(models: Array<string | { id: string; parent: string }>): string {
  const data = models.map((m) => {
    const { id, parent } = typeof m === 'string' ? { id: m, parent: null } : m;
    return {
      id,
      object: 'model',
      created: 1715644056,
      owned_by: 'vllm',
      root: id,
      parent,
      max_model_len: 4096,
      permission: [],
    };
  });
  return JSON.stringify({ object: 'list', data });
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const NOT_FOUND = '{"detail":"Not Found"}';

/** vLLM's JSON ErrorResponse (reference §1.3). */
const errorBody = (message: string, type: string, code: number) =>
  JSON.stringify({ error: { message, type, param: null, code } });

/** Starts a fake on 127.0.0.1, port 0. */
export async function startFakeVllm(
  init: { metrics?: string; models?: string; mode?: FakeVllmMode } = {},
): Promise<FakeVllmServer> {
  const lora = (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (!fake.loraRoutes) return send(res, 404, NOT_FOUND, 'application/json');
    if (req.method !== 'POST') return send(res, 405, '{"detail":"Method Not Allowed"}', 'application/json');
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      let body: { lora_name?: unknown; lora_path?: unknown };
      try {
        body = JSON.parse(raw) as typeof body;
      } catch {
        return send(res, 400, errorBody('Invalid JSON', 'BadRequestError', 400), 'application/json');
      }
      const name = typeof body.lora_name === 'string' ? body.lora_name : '';
      if (path === '/v1/load_lora_adapter') {
        if (typeof body.lora_path !== 'string')
          return send(
            res,
            400,
            errorBody('lora_path is required', 'BadRequestError', 400),
            'application/json',
          );
        if (fake.loras.has(name))
          return send(
            res,
            400,
            errorBody(`The lora adapter '${name}' has already been loaded.`, 'InvalidUserInput', 400),
            'application/json',
          );
        fake.loras.set(name, body.lora_path);
        return send(res, 200, `Success: LoRA adapter '${name}' added successfully`);
      }
      if (!fake.loras.delete(name))
        return send(
          res,
          404,
          errorBody(`The lora adapter '${name}' cannot be found.`, 'NotFoundError', 404),
          'application/json',
        );
      send(res, 200, `Success: LoRA adapter '${name}' removed successfully`);
    });
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    fake.hits.set(path, (fake.hits.get(path) ?? 0) + 1);
    const { mode } = fake;
    if (mode === 'hang') return; // the socket stays open until close()
    if (path === '/health') return send(res, mode === 'health503' ? 503 : 200, '');
    if (path === '/v1/models') return send(res, 200, modelsBody(), 'application/json');
    if (path === '/version') return send(res, 200, '{"version":"0.10.0"}', 'application/json');
    if (path === '/v1/load_lora_adapter' || path === '/v1/unload_lora_adapter') return lora(req, res, path);
    if (path !== '/metrics') return send(res, 404, '{"detail":"Not Found"}', 'application/json');
    if (mode === 'error500') return send(res, 500, 'Internal Server Error');
    if (mode === 'garbage') return send(res, 200, '<html><body><h1>502 Bad Gateway</h1></body></html>\n');
    if (mode === 'truncate') return sendTruncated(res, fake.metrics, fake.metricsContentType);
    send(res, 200, fake.metrics, fake.metricsContentType);
  });
  // Loaded adapters are listed after the base models, as vLLM does (parent: the base model).
  const modelsBody = () => {
    if (fake.loras.size === 0) return fake.models;
    const list = JSON.parse(fake.models) as { data: Array<{ id: string }> };
    const known = new Set(list.data.map((m) => m.id));
    const parent = list.data[0]?.id ?? '';
    const added = [...fake.loras.keys()].filter((id) => !known.has(id)).map((id) => ({ id, parent }));
    const adapters = (JSON.parse(vllmModelList(added)) as { data: unknown[] }).data;
    return JSON.stringify({ ...list, data: [...list.data, ...adapters] });
  };
  const { url, close } = await listenLocal(server);
  const fake: FakeVllmServer = {
    url,
    metrics: init.metrics ?? '',
    metricsContentType: 'text/plain; version=0.0.4; charset=utf-8',
    models: init.models ?? vllmModelList([]),
    mode: init.mode ?? 'ok',
    hits: new Map(),
    loraRoutes: false,
    loras: new Map(),
    close,
  };
  return fake;
}

/** A port on 127.0.0.1 that nothing listens on (connection refused). */
export async function closedPort(): Promise<string> {
  const { url, close } = await listenLocal(createServer());
  await close();
  return url;
}
