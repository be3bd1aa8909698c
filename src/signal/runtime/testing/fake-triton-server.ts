/**
 * A fake Triton for tests (reference §3): the KServe v2 HTTP endpoints on one port — server
 * metadata, health, per-model ready, the repository index (POST) and explicit-mode load/unload,
 * errors as `{"error": "..."}` with 400 — and `/metrics` on a second port like Triton's 8002.
 */
import { json, startFakeHttp, text, type FakeHttpServer, type FakeReply } from './fake-http.ts';

export type TritonModelState = 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';

export interface FakeTritonServer {
  /** The inference/KServe port. */
  http: FakeHttpServer;
  /** The metrics port (failure modes set here). */
  metricsServer: FakeHttpServer;
  url: string;
  metricsUrl: string;
  metrics: string;
  /** Repository models and their state (version "1"). */
  models: Map<string, TritonModelState>;
  /** `explicit` allows load/unload; `none` refuses them as Triton does when polling/none. */
  controlMode: 'explicit' | 'none';
  close(): Promise<void>;
}

/** Triton 2.38's `GET /v2` (reference §3.1, verbatim extensions list shortened to what we use). */
const SERVER_METADATA = { name: 'triton', version: '2.38.0', extensions: ['model_repository', 'statistics'] };

/** Starts a fake Triton (two ports on 127.0.0.1). */
export async function startFakeTriton(
  init: { metrics?: string; models?: Record<string, TritonModelState> } = {},
) {
  const control = (name: string, op: string): FakeReply => {
    if (fake.controlMode !== 'explicit')
      return json(400, { error: 'explicit model load / unload is not allowed if polling is enabled' });
    if (!fake.models.has(name))
      return json(400, { error: `failed to load '${name}', failed to poll from model repository` });
    fake.models.set(name, op === 'load' ? 'READY' : 'UNAVAILABLE');
    return text(200, '');
  };
  const http = await startFakeHttp({
    isMetrics: () => false,
    notFound: json(400, { error: 'Not Found' }),
    route: (req, _body, url) => {
      const p = url.pathname;
      if (req.method === 'GET' && p === '/v2') return json(200, SERVER_METADATA);
      if (req.method === 'GET' && (p === '/v2/health/live' || p === '/v2/health/ready')) {
        const ready = p.endsWith('live') || [...fake.models.values()].every((s) => s !== 'LOADING');
        return text(ready ? 200 : 400, '');
      }
      const ready = /^\/v2\/models\/([^/]+)\/ready$/.exec(p);
      if (req.method === 'GET' && ready)
        return text(fake.models.get(decodeURIComponent(ready[1]!)) === 'READY' ? 200 : 400, '');
      if (req.method === 'POST' && p === '/v2/repository/index')
        return json(
          200,
          [...fake.models].map(([name, state]) =>
            state === 'READY'
              ? { name, version: '1', state }
              : { name, version: '1', state, reason: 'unloaded' },
          ),
        );
      const op = /^\/v2\/repository\/models\/([^/]+)\/(load|unload)$/.exec(p);
      if (req.method === 'POST' && op) return control(decodeURIComponent(op[1]!), op[2]!);
      return undefined;
    },
  });
  const metricsServer = await startFakeHttp({
    isMetrics: (p) => p === '/metrics',
    route: (req, _b, url) =>
      url.pathname === '/metrics' ? text(200, fake.metrics, 'text/plain; charset=utf-8') : undefined,
  });
  const fake: FakeTritonServer = {
    http,
    metricsServer,
    url: http.url,
    metricsUrl: `${metricsServer.url}/metrics`,
    metrics: init.metrics ?? '',
    models: new Map(Object.entries(init.models ?? {})),
    controlMode: 'explicit',
    close: async () => {
      await Promise.all([http.close(), metricsServer.close()]);
    },
  };
  return fake;
}
