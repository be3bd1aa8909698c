/**
 * A fake TF Serving REST port for tests (reference §4.2): `GET /v1/models/{m}` → the model status
 * (404 `{"error": "Servable not found for request: Latest(m)"}` for an unknown one),
 * `POST /v1/models/{m}:predict` → `{"predictions": [...]}`, and the monitoring page when enabled.
 */
import { json, startFakeHttp, text, type FakeHttpServer } from './fake-http.ts';

export interface FakeTfServing extends FakeHttpServer {
  /** Model → state of its one version ("1"). */
  models: Map<string, string>;
  /** The monitoring page; undefined = monitoring off (404). */
  metrics: string | undefined;
}

export const TFS_METRICS_PATH = '/monitoring/prometheus/metrics';

/** Starts a fake TF Serving on 127.0.0.1, port 0. */
export async function startFakeTfServing(init: { models?: Record<string, string>; metrics?: string } = {}) {
  const http = await startFakeHttp({
    isMetrics: (p) => p === TFS_METRICS_PATH,
    notFound: json(404, { error: 'Not Found' }),
    route: (req, _b, url) => {
      if (url.pathname === TFS_METRICS_PATH)
        return fake.metrics === undefined ? undefined : text(200, fake.metrics, 'text/plain; version=0.0.4');
      const predict = /^\/v1\/models\/([^/:]+)(?:\/versions\/\d+)?:predict$/.exec(url.pathname);
      if (predict && req.method === 'POST')
        return fake.models.get(predict[1]!) === 'AVAILABLE'
          ? json(200, { predictions: [[0.1, 0.9]] })
          : json(404, { error: `Servable not found for request: Latest(${predict[1]})` });
      const status = /^\/v1\/models\/([^/:]+)$/.exec(url.pathname);
      if (!status || req.method !== 'GET') return undefined;
      const name = decodeURIComponent(status[1]!);
      const state = fake.models.get(name);
      if (state === undefined) return json(404, { error: `Servable not found for request: Latest(${name})` });
      return json(200, {
        model_version_status: [{ version: '1', state, status: { error_code: 'OK', error_message: '' } }],
      });
    },
  });
  const fake: FakeTfServing = Object.assign(http, {
    models: new Map(Object.entries(init.models ?? {})),
    metrics: init.metrics,
  });
  return fake;
}
