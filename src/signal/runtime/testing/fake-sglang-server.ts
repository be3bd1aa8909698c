/**
 * A fake SGLang server for tests: `/metrics` (prometheus_client text with `sglang:` names, set by
 * the test), OpenAI `/v1/models` (`owned_by: "sglang"`), `/get_model_info`
 * (`{"model_path","tokenizer_path","is_generation"}`, used by detection) and `/health`
 * (200 empty; 503 while the scheduler is not up). FastAPI's `{"detail":"Not Found"}` otherwise.
 */
import { json, startFakeHttp, text, type FakeHttpServer } from './fake-http.ts';

export interface FakeSglangServer extends FakeHttpServer {
  metrics: string;
  model: string;
  healthy: boolean;
}

/** Starts a fake SGLang on 127.0.0.1, port 0. */
export async function startFakeSglang(
  init: { metrics?: string; model?: string } = {},
): Promise<FakeSglangServer> {
  const http = await startFakeHttp({
    isMetrics: (p) => p === '/metrics',
    notFound: json(404, { detail: 'Not Found' }),
    route: (req, _b, url) => {
      if (req.method !== 'GET') return undefined;
      switch (url.pathname) {
        case '/metrics':
          return text(200, fake.metrics, 'text/plain; version=0.0.4; charset=utf-8');
        case '/v1/models':
          return json(200, {
            object: 'list',
            data: [
              { id: fake.model, object: 'model', created: 1735000000, owned_by: 'sglang', root: fake.model },
            ],
          });
        case '/get_model_info':
          return json(200, { model_path: fake.model, tokenizer_path: fake.model, is_generation: true });
        case '/health':
          return fake.healthy ? text(200, '') : text(503, '');
        default:
          return undefined;
      }
    },
  });
  const fake = Object.assign(http, {
    metrics: init.metrics ?? '',
    model: init.model ?? 'meta-llama/Llama-3.1-8B-Instruct',
    healthy: true,
  });
  return fake;
}
