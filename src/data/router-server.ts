/**
 * The data plane's HTTP front: OpenAI-compatible, TGI and KServe v2 inference routes, request ids,
 * and errors in the shape of the protocol the path belongs to (`protocols/`). Every request ends
 * with a response; no input reaches an unhandled rejection.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { listen } from '../core/listen.ts';
import { MESH_ERROR_CODE_HEADER, MeshError } from '../core/errors.ts';
import type { Logger } from '../observability/log.ts';
import type { MeshMetrics } from '../observability/metrics.ts';
import { parseJsonObject, readBody, requireJsonContentType } from './body.ts';
import type { EndpointSelector } from './endpoint-selector.ts';
import { forwardInference } from './forward.ts';
import { protocolForPath, type ClientProtocol, type InferenceRoute } from './protocols/index.ts';
import { requestHints, SLO_CLASS_HEADER, TIMEOUT_HEADER } from './request-hints.ts';
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

/** Upstream request headers worth passing on; everything else (cookies, hop-by-hop) stays here. */
const FORWARDED_HEADERS = ['content-type', 'accept', 'traceparent', 'tracestate'];

export async function createRouterServer(options: RouterServerOptions): Promise<RouterServer> {
  const { logger, metrics } = options;
  const server: Server = createServer((req, res) => {
    const requestId = headerValue(req, 'x-request-id') ?? randomUUID();
    const log = logger.child({ requestId });
    const url = new URL(req.url ?? '/', 'http://router.invalid');
    const protocol = protocolForPath(url.pathname);
    handle(req, res, url, protocol, requestId, log).catch((err: unknown) => {
      const error = MeshError.from(err);
      if (error.code === 'internal') log.error({ err }, 'request failed');
      else log.info({ code: error.code, err: error.message }, 'request rejected');
      sendError(res, error, requestId, protocol);
    });
  });

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    protocol: ClientProtocol,
    requestId: string,
    log: Logger,
  ): Promise<void> {
    const path = url.pathname;
    const route = protocol.route(path);
    if (route) {
      if (req.method !== 'POST') throw new MeshError('invalid_request', `${path} accepts POST only`);
      return inference(req, res, url, protocol, route, requestId, log);
    }
    if (path === '/v1/models' && req.method === 'GET') return sendJson(res, 200, modelList(), requestId);
    if (path === '/healthz' || path === '/readyz') return sendJson(res, 200, { status: 'ok' }, requestId);
    throw new MeshError('not_found', `no route for ${req.method} ${path}`);
  }

  async function inference(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    protocol: ClientProtocol,
    route: InferenceRoute,
    requestId: string,
    log: Logger,
  ) {
    const startedAt = performance.now();
    const path = url.pathname;
    let model = '';
    try {
      requireJsonContentType(headerValue(req, 'content-type'));
      const body = await readBody(req, options.maxBodyBytes);
      const json = parseJsonObject(body);
      model = route.model(
        { path, query: url.searchParams, headers: req.headers, body: json },
        { modelsSpeaking: (p) => options.selector.servedModels(p) },
      );
      // Read once from the one parse: prompt size, prefix blocks, output budget, SLO class, timeout.
      const hints = requestHints(
        json,
        {
          [SLO_CLASS_HEADER]: headerValue(req, SLO_CLASS_HEADER),
          [TIMEOUT_HEADER]: headerValue(req, TIMEOUT_HEADER),
        },
        options.selector.blockTokens,
      );
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
      const request = {
        requestId,
        model,
        protocol,
        path: route.upstreamPath,
        stream: route.streams(json),
        body,
        hints,
        headers,
        startedAt,
        log,
      };
      await forwardInference(deps, request, res);
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
    // Only what OpenAI clients can call: models served over the OpenAI protocol.
    const data = options.selector
      .servedModels('openai')
      .map((id) => ({ id, object: 'model', created, owned_by: 'infermesh' }));
    return { object: 'list', data };
  }

  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  return listen(server, options.host, options.port);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  requestId: string,
  extra: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...extra,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-request-id': requestId,
  });
  res.end(text);
}

/**
 * Sends the error in the protocol's shape if nothing was sent yet, with the stable mesh code in
 * the `mesh-error-code` header (not every protocol's body has room for it); a committed response
 * is cut instead.
 */
function sendError(res: ServerResponse, error: MeshError, requestId: string, protocol: ClientProtocol): void {
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error.code === 'payload_too_large') res.setHeader('connection', 'close');
  // Admission refusals say when to come back (RFC 9110 Retry-After, seconds).
  if (error.code === 'rate_limited') {
    const seconds = Number(error.details.retryAfterSeconds);
    res.setHeader('retry-after', String(Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 1));
  }
  sendJson(res, error.httpStatus, protocol.errorBody(error), requestId, {
    [MESH_ERROR_CODE_HEADER]: error.code,
  });
}
