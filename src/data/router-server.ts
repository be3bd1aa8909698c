/**
 * The data plane's HTTP front: OpenAI-compatible routes, request ids, errors in OpenAI's shape.
 * Every request ends with a response; no input reaches an unhandled rejection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { MeshError } from '../core/errors.ts';
import type { Logger } from '../observability/log.ts';
import type { MeshMetrics } from '../observability/metrics.ts';
import { parseJsonObject, readBody, requireModel } from './body.ts';
import type { EndpointSelector } from './endpoint-selector.ts';
import { forwardInference } from './forward.ts';
import type { Upstreams } from './upstreams.ts';

export interface RouterServerOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  retries: number;
  selector: EndpointSelector;
  upstreams: Upstreams;
  metrics: MeshMetrics;
  logger: Logger;
}

export interface RouterServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** OpenAI routes the router forwards as they are. */
const INFERENCE_PATHS = new Set(['/v1/chat/completions', '/v1/completions']);

/** Upstream request headers worth passing on; everything else (cookies, hop-by-hop) stays here. */
const FORWARDED_HEADERS = ['content-type', 'accept', 'traceparent', 'tracestate'];

export async function createRouterServer(options: RouterServerOptions): Promise<RouterServer> {
  const { logger, metrics } = options;
  const server: Server = createServer((req, res) => {
    const requestId = headerValue(req, 'x-request-id') ?? randomUUID();
    const log = logger.child({ requestId });
    handle(req, res, requestId, log).catch((err: unknown) => {
      const error = MeshError.from(err);
      if (error.code === 'internal') log.error({ err }, 'request failed');
      else log.info({ code: error.code, err: error.message }, 'request rejected');
      sendError(res, error, requestId);
    });
  });

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    log: Logger,
  ): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (INFERENCE_PATHS.has(path)) {
      if (req.method !== 'POST') throw new MeshError('invalid_request', `${path} accepts POST only`);
      return inference(req, res, path, requestId, log);
    }
    if (path === '/v1/models' && req.method === 'GET') return sendJson(res, 200, modelList(), requestId);
    if (path === '/healthz' || path === '/readyz') return sendJson(res, 200, { status: 'ok' }, requestId);
    throw new MeshError('not_found', `no route for ${req.method} ${path}`);
  }

  async function inference(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    requestId: string,
    log: Logger,
  ) {
    const startedAt = performance.now();
    let model = '';
    try {
      const contentType = headerValue(req, 'content-type') ?? 'application/json';
      if (!/^application\/json\b/i.test(contentType)) {
        throw new MeshError(
          'unsupported_media_type',
          `expected content-type application/json, got ${contentType}`,
        );
      }
      const body = await readBody(req, options.maxBodyBytes);
      model = requireModel(parseJsonObject(body));
      const headers: Record<string, string> = { 'x-request-id': requestId };
      for (const name of FORWARDED_HEADERS) {
        const value = headerValue(req, name);
        if (value) headers[name] = value;
      }
      const deps = {
        selector: options.selector,
        upstreams: options.upstreams,
        metrics,
        retries: options.retries,
      };
      await forwardInference(deps, { requestId, model, path, body, headers, startedAt, log }, res);
      const ms = Math.round(performance.now() - startedAt);
      if (res.writableFinished) log.info({ model, path, status: res.statusCode, ms }, 'request done');
      else log.info({ model, path, ms }, 'request cancelled by the client');
    } catch (err) {
      const error = MeshError.from(err);
      metrics.requests.inc({ model: model || 'none', endpoint: 'none', status: String(error.httpStatus) });
      throw error;
    }
  }

  function modelList() {
    const created = Math.floor(Date.now() / 1000);
    const data = options.selector
      .servedModels()
      .map((id) => ({ id, object: 'model', created, owned_by: 'infermesh' }));
    return { object: 'list', data };
  }

  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host}:${port}`,
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-request-id': requestId,
  });
  res.end(text);
}

/** Sends an OpenAI-shaped error if nothing was sent yet; a committed response is cut instead. */
function sendError(res: ServerResponse, error: MeshError, requestId: string): void {
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error.code === 'payload_too_large') res.setHeader('connection', 'close');
  sendJson(res, error.httpStatus, error.toOpenAI(), requestId);
}
