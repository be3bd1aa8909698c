/**
 * The data plane's HTTP front: OpenAI-compatible, TGI and KServe v2 inference routes, request ids,
 * errors in the shape of the protocol the path belongs to (`protocols/`), and the graceful drain.
 * Every request ends with a response; no input reaches an unhandled rejection. The per-request
 * path does only what routing needs: one path split, one body read, one JSON parse, one pick.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { randomUUID } from 'node:crypto';
import { listen, type Listening } from '../core/listen.ts';
import type { HedgingConfig } from '../core/config.ts';
import { excerpt, MESH_ERROR_CODE_HEADER, MeshError } from '../core/errors.ts';
import type { Logger } from '../observability/log.ts';
import { runInSpan } from '../observability/tracing/tracer.ts';
import type { MeshMetrics } from '../observability/metrics.ts';
import { parseJsonObject, readBody, requireJsonContentType } from './body.ts';
import { ClientExchange } from './client-exchange.ts';
import { drainServer, type DrainReport } from './drain.ts';
import type { ApiKeyGate } from './api-keys.ts';
import { forwardInference, type ForwardDeps } from './forward.ts';
import { createHedging } from './hedge.ts';
import { protocolForPath, type ClientProtocol, type InferenceRoute } from './protocols/index.ts';
import type { NodeAttempts } from './node-attempts.ts';
import { TENANT_HEADER, type QuotaLimiter } from './quota/quota-limiter.ts';
import { requestHints, SLO_CLASS_HEADER, TIMEOUT_HEADER, type PickHints } from './request-hints.ts';
import { createRequestMetrics } from './request-metrics.ts';
import { describeRequest, endRequestTrace, startRequestTrace, type RequestTrace } from './request-tracing.ts';
import { createSloRouting, type SloRules } from './slo-rules.ts';
import type { RouteDecider } from './route-decider.ts';
import type { Upstreams } from './upstreams.ts';

export type { DrainReport } from './drain.ts';

/** A server certificate for the router port (PEM text): `security.tls.routerPort`'s files. */
export interface RouterTls {
  cert: string;
  key: string;
}

export interface RouterServerOptions {
  host: string;
  /** Serve https with this certificate (`setTls` swaps it for new connections). */
  tls?: RouterTls;
  port: number;
  /** Kernel accept queue length. */
  backlog: number;
  /** Share the port with the node's other workers (SO_REUSEPORT). */
  reusePort?: boolean;
  /** This server's worker index, for `infermesh_router_worker_requests_total` (default 0). */
  worker?: number;
  maxBodyBytes: number;
  retries: number;
  /** `router.hedging`; absent or disabled: no request is hedged. Each server (worker) keeps its own cap. */
  hedging?: HedgingConfig;
  decider: RouteDecider;
  upstreams: Upstreams;
  metrics: MeshMetrics;
  logger: Logger;
  /** Tenant quotas (`quota/`); absent: none are enforced and `x-mesh-tenant` is ignored. */
  quota?: QuotaLimiter;
  /**
   * Present when API keys are required (`security.apiKeys`): every inference request needs a valid
   * key, and its tenant is the key's (`api-keys.ts`), not what `x-mesh-tenant` says.
   */
  apiKeys?: ApiKeyGate;
  /** Called for each request refused over a quota (throttle there: it may come per request). */
  onQuotaExceeded?: (tenant: string, model: string) => void;
  /** Attempts in flight by node, which a forced drain cuts (`node-attempts.ts`). */
  attempts?: NodeAttempts;
  /**
   * The SLO policies and tenants' default classes (`slo-rules.ts`), kept current by the caller;
   * absent: a request's class is its header's or latency, with config's settings.
   */
  slo?: SloRules;
}

export interface RouterServer {
  url: string;
  port: number;
  /** A renewed certificate for new connections (https only; open ones keep theirs). */
  setTls(tls: RouterTls): void;
  /** Requests being served now. */
  active(): number;
  /**
   * Stops accepting, lets requests in flight finish for up to `timeoutMs`, then ends the rest
   * with the protocol's error (an SSE stream gets its error event and end marker).
   */
  drain(timeoutMs: number): Promise<DrainReport>;
  close(): Promise<void>;
}

/** Upstream request headers worth passing on; everything else (cookies, hop-by-hop) stays here. */
const FORWARDED_HEADERS = ['content-type', 'accept', 'traceparent', 'tracestate'] as const;
/** A client's `x-request-id` longer than this is replaced, not echoed. */
const MAX_REQUEST_ID = 128;

export async function createRouterServer(options: RouterServerOptions): Promise<RouterServer> {
  const { logger, decider } = options;
  const metrics = createRequestMetrics(options.metrics, (m) => decider.knowsModel(m));
  const exchanges = new Set<ClientExchange>();
  const accepted = options.metrics.workerRequests.labels({ worker: String(options.worker ?? 0) });
  let draining = false;
  const slo = options.slo ?? createSloRouting(options.hedging);
  const forwardDeps: ForwardDeps = {
    decider,
    upstreams: options.upstreams,
    metrics,
    retries: options.retries,
    logger,
    draining: () => draining,
    hedging: createHedging(options.hedging),
    attempts: options.attempts,
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    accepted.inc();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const protocol = protocolForPath(path);
    const clientId = headerValue(req, 'x-request-id');
    const requestId = clientId && clientId.length <= MAX_REQUEST_ID ? clientId : randomUUID();
    const route = protocol.route(path);
    if (route && req.method === 'POST') {
      const exchange = new ClientExchange(res, requestId);
      exchanges.add(exchange);
      const search = q < 0 ? '' : rawUrl.slice(q + 1);
      // Tracing on: the request runs inside its `router.request` span (picks, attempts, logs see it).
      const traced = startRequestTrace(req, path, requestId, protocol.speaks, options.worker ?? 0);
      if (!traced) void serve(req, exchange, path, search, protocol, route);
      else
        void runInSpan(
          traced.span,
          () => serve(req, exchange, path, search, protocol, route, traced),
          traced.parent,
        );
      return;
    }
    try {
      other(req, res, path, route, requestId);
    } catch (err) {
      fail(res, MeshError.from(err), requestId, protocol);
    }
  };

  /** Answers one inference request, whatever happens, then lets go of its exchange (and span). */
  function serve(
    req: IncomingMessage,
    exchange: ClientExchange,
    path: string,
    search: string,
    protocol: ClientProtocol,
    route: InferenceRoute,
    traced?: RequestTrace,
  ): Promise<void> {
    let failure: MeshError | undefined;
    return inference(req, exchange, path, search, protocol, route)
      .catch((err: unknown) =>
        fail(exchange.res, (failure = MeshError.from(err)), exchange.requestId, protocol),
      )
      .finally(() => {
        exchange.close();
        exchanges.delete(exchange);
        if (traced) endRequestTrace(traced, exchange.res, failure);
      });
  }

  function other(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    route: InferenceRoute | undefined,
    requestId: string,
  ): void {
    if (route) throw new MeshError('invalid_request', `${excerpt(path)} accepts POST only`);
    if (path === '/v1/models' && req.method === 'GET') return sendJson(res, 200, modelList(), requestId);
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' }, requestId);
    if (path === '/readyz') {
      if (draining) throw new MeshError('unavailable', 'the node is draining');
      return sendJson(res, 200, { status: 'ready' }, requestId);
    }
    throw new MeshError('not_found', `no route for ${excerpt(req.method ?? '')} ${excerpt(path)}`);
  }

  async function inference(
    req: IncomingMessage,
    exchange: ClientExchange,
    path: string,
    search: string,
    protocol: ClientProtocol,
    route: InferenceRoute,
  ): Promise<void> {
    const startedAt = performance.now();
    let model = '';
    try {
      if (draining) throw new MeshError('unavailable', 'the node is draining; retry on another router');
      // Before the body is read: a request without a valid key costs no more than its headers.
      const claimed = headerValue(req, TENANT_HEADER);
      const tenant = options.apiKeys ? options.apiKeys.tenantOf(req.headers, claimed) : claimed;
      requireJsonContentType(headerValue(req, 'content-type'));
      const body = await readBody(req, options.maxBodyBytes);
      const json = parseJsonObject(body);
      model = route.model(
        {
          path,
          get query() {
            return new URLSearchParams(search);
          },
          headers: req.headers,
          body: json,
        },
        { modelsSpeaking: (p) => decider.servedModels(p) },
      );
      // Read once from the one parse: prompt size, prefix blocks, output budget, SLO class, timeout.
      const stream = route.streams(json);
      const hints: PickHints = {
        ...requestHints(
          json,
          {
            [SLO_CLASS_HEADER]: headerValue(req, SLO_CLASS_HEADER),
            [TIMEOUT_HEADER]: headerValue(req, TIMEOUT_HEADER),
          },
          decider.blockTokens,
        ),
        stream,
        // Joins a watched decision (the dashboard's decision explorer) to its request.
        requestId: exchange.requestId,
      };
      const sloClass = slo.classOf(hints.sloClass, tenant);
      const settings = slo.settings(sloClass, model);
      hints.sloClass = sloClass;
      // The class's end-to-end budget is the deadline of a request that names none.
      hints.timeoutMs ??= settings.e2eMs;
      hints.maxWaitMs = settings.maxWaitMs;
      hints.weights = settings.weights;
      describeRequest(model, hints, tenant);
      admitTenant(tenant, model, hints);
      const headers: Record<string, string> = {
        'x-request-id': exchange.requestId,
        'content-length': String(body.length),
      };
      for (const name of FORWARDED_HEADERS) {
        const value = headerValue(req, name);
        if (value) headers[name] = value;
      }
      const request = {
        requestId: exchange.requestId,
        model,
        protocol,
        path: route.upstreamPath,
        stream,
        body,
        hints,
        hedge: settings.hedge,
        headers,
        startedAt,
      };
      await forwardInference(forwardDeps, request, exchange);
    } catch (err) {
      const error = MeshError.from(err);
      metrics.rejected(model, error);
      throw error;
    }
  }

  /** The tenant's quotas take this request (its prompt estimate plus its output cap, in tokens). */
  function admitTenant(tenant: string | undefined, model: string, hints: PickHints): void {
    if (!options.quota || tenant === undefined) return;
    try {
      options.quota.admit(tenant, model, (hints.promptTokens ?? 0) + (hints.maxTokens ?? 0));
      // Admitted, so a tenant the control plane knows: the label stays bounded.
      metrics.tenantAdmitted(tenant);
    } catch (err) {
      if (err instanceof MeshError && err.details.quota === true) {
        metrics.quotaRejected(tenant, model);
        options.onQuotaExceeded?.(tenant, model);
      }
      throw err;
    }
  }

  /** Logs by severity (client mistakes at debug, so a flood of bad requests cannot flood the log) and answers. */
  function fail(res: ServerResponse, error: MeshError, requestId: string, protocol: ClientProtocol): void {
    if (error.code === 'internal') logger.error({ requestId, err: error.cause ?? error }, 'request failed');
    else if (error.httpStatus >= 500)
      logger.warn({ requestId, code: error.code, err: error.message }, 'request failed');
    else logger.debug({ requestId, code: error.code, err: error.message }, 'request rejected');
    sendError(res, error, requestId, protocol, draining);
  }

  function modelList() {
    const created = Math.floor(Date.now() / 1000);
    // Only what OpenAI clients can call: models served over the OpenAI protocol.
    const data = decider
      .servedModels('openai')
      .map((id) => ({ id, object: 'model', created, owned_by: 'infermesh' }));
    return { object: 'list', data };
  }

  const server: Server = options.tls ? createHttpsServer(options.tls, handler) : createServer(handler);
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  const listening: Listening = await listen(server, {
    host: options.host,
    port: options.port,
    backlog: options.backlog,
    reusePort: options.reusePort,
    configKey: 'router.listen',
  });
  return {
    url: options.tls ? listening.url.replace(/^http:/, 'https:') : listening.url,
    port: listening.port,
    setTls(tls) {
      if ('setSecureContext' in server)
        (server as { setSecureContext(o: RouterTls): void }).setSecureContext(tls);
    },
    active: () => exchanges.size,
    drain(timeoutMs) {
      draining = true;
      return drainServer(server, exchanges, timeoutMs);
    },
    close: () => listening.close(),
  };
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
function sendError(
  res: ServerResponse,
  error: MeshError,
  requestId: string,
  protocol: ClientProtocol,
  draining: boolean,
): void {
  if (res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const extra: Record<string, string> = { [MESH_ERROR_CODE_HEADER]: error.code };
  // An unread body over the limit, or a node on its way out: this connection carries no more.
  if (error.code === 'payload_too_large' || draining) extra.connection = 'close';
  // A missing or bad API key says how to authenticate (RFC 9110 §11.6.1, RFC 6750).
  if (typeof error.details.wwwAuthenticate === 'string')
    extra['www-authenticate'] = error.details.wwwAuthenticate;
  // Admission refusals say when to come back (RFC 9110 Retry-After, seconds).
  if (error.code === 'rate_limited') {
    const seconds = Number(error.details.retryAfterSeconds);
    extra['retry-after'] = String(Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) : 1);
  }
  sendJson(res, error.httpStatus, protocol.errorBody(error), requestId, extra);
}
