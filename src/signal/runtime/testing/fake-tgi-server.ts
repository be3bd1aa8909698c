/**
 * A fake TGI router for tests (reference §2.1/§2.2/§2.4): `GET /info` with the `Info` fields,
 * `GET /health` (200 empty, or 503 `{"error":"unhealthy","error_type":"healthcheck"}`), `GET
 * /metrics` in the Rust exporter's text (set by the test), and TGI's JSON 404 for anything else.
 */
import { json, startFakeHttp, text, type FakeHttpServer } from './fake-http.ts';

export interface FakeTgiServer extends FakeHttpServer {
  metrics: string;
  modelId: string;
  healthy: boolean;
  /** When false, /info answers 503 (router still starting). */
  infoUp: boolean;
}

/** An `/info` body with every required field of the schema (values illustrative). */
export const tgiInfo = (modelId: string) => ({
  model_id: modelId,
  model_sha: null,
  model_pipeline_tag: 'text-generation',
  max_concurrent_requests: 128,
  max_best_of: 2,
  max_stop_sequences: 4,
  max_input_tokens: 1024,
  max_total_tokens: 2048,
  validation_workers: 2,
  max_client_batch_size: 4,
  router: 'text-generation-router',
  version: '3.3.7',
  sha: null,
  docker_label: null,
});

/** Starts a fake TGI on 127.0.0.1, port 0. */
export async function startFakeTgi(
  init: { metrics?: string; modelId?: string } = {},
): Promise<FakeTgiServer> {
  const state = {
    metrics: init.metrics ?? '',
    modelId: init.modelId ?? 'bigscience/bloom-560m',
    healthy: true,
    infoUp: true,
  };
  const http = await startFakeHttp({
    isMetrics: (p) => p === '/metrics',
    notFound: json(404, { error: 'Not Found', error_type: 'not_found' }),
    route: (req, _body, url) => {
      if (req.method !== 'GET') return undefined;
      switch (url.pathname) {
        case '/info':
          return fake.infoUp
            ? json(200, tgiInfo(fake.modelId))
            : json(503, { error: 'starting', error_type: 'unhealthy' });
        case '/health':
          return fake.healthy ? text(200, '') : json(503, { error: 'unhealthy', error_type: 'healthcheck' });
        case '/metrics':
          return text(200, fake.metrics, 'text/plain; version=0.0.4');
        default:
          return undefined;
      }
    },
  });
  const fake = Object.assign(http, state);
  return fake;
}
