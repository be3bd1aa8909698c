/**
 * A fake OVMS REST port for tests (reference §4.3): KServe v2 health (200 with the 2-byte `{}` body
 * the docs show), `GET /v2` server metadata, TF-Serving-style `GET /v1/models/{m}` and the config
 * status `GET /v1/config` (status per model), and `/metrics` when `--metrics_enable` (404 otherwise).
 */
import { json, startFakeHttp, text, type FakeHttpServer } from './fake-http.ts';

export interface FakeOvms extends FakeHttpServer {
  models: Map<string, string>;
  /** undefined = metrics disabled. */
  metrics: string | undefined;
}

/** Starts a fake OVMS on 127.0.0.1, port 0. */
export async function startFakeOvms(init: { models?: Record<string, string>; metrics?: string } = {}) {
  const status = (state: string) => ({
    model_version_status: [{ version: '1', state, status: { error_code: 'OK', error_message: 'OK' } }],
  });
  const http = await startFakeHttp({
    isMetrics: (p) => p === '/metrics',
    notFound: json(404, { error: 'Model with requested name is not found' }),
    route: (req, _b, url) => {
      const p = url.pathname;
      if (p === '/metrics')
        return fake.metrics === undefined ? undefined : text(200, fake.metrics, 'text/plain; version=0.0.4');
      if (p === '/v2/health/live' || p === '/v2/health/ready') return json(200, {});
      if (p === '/v2') return json(200, { name: 'OpenVINO Model Server', version: '2024.4' });
      if (p === '/v1/config')
        return json(200, Object.fromEntries([...fake.models].map(([m, s]) => [m, status(s)])));
      const one = /^\/v1\/models\/([^/:]+)$/.exec(p);
      if (one && fake.models.has(one[1]!)) return json(200, status(fake.models.get(one[1]!)!));
      return undefined;
    },
  });
  const fake: FakeOvms = Object.assign(http, {
    models: new Map(Object.entries(init.models ?? {})),
    metrics: init.metrics,
  });
  return fake;
}
