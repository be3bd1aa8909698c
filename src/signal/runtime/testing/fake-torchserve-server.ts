/**
 * A fake TorchServe for tests (reference §4.1): inference port (`/ping` → `{"status": "Healthy"}`),
 * management port (list, describe as an array per version with workers and job queue, register via
 * `POST /models?url=&model_name=&initial_workers=&synchronous=`, unregister via `DELETE`; errors as
 * `{"code", "type", "message"}`), and a metrics port serving the test's page.
 */
import { json, startFakeHttp, text, type FakeHttpServer } from './fake-http.ts';

export interface FakeTsModel {
  url: string;
  workers: Array<'READY' | 'LOADING' | 'UNLOADING'>;
  pending: number;
}

export interface FakeTorchServe {
  inference: FakeHttpServer;
  management: FakeHttpServer;
  metricsServer: FakeHttpServer;
  url: string;
  managementUrl: string;
  metricsUrl: string;
  metrics: string;
  models: Map<string, FakeTsModel>;
  close(): Promise<void>;
}

const error = (code: number, type: string, message: string) => json(code, { code, type, message });

/** Starts the three fake ports on 127.0.0.1. */
export async function startFakeTorchServe(
  init: { metrics?: string; models?: Record<string, FakeTsModel> } = {},
) {
  const describe = (name: string, m: FakeTsModel) => [
    {
      modelName: name,
      modelVersion: '1.0',
      modelUrl: m.url,
      engine: 'Torch',
      runtime: 'python',
      minWorkers: m.workers.length,
      maxWorkers: m.workers.length,
      batchSize: 1,
      maxBatchDelay: 100,
      workers: m.workers.map((status, i) => ({
        id: String(9000 + i),
        startTime: '2018-10-02T13:44:53.034Z',
        status,
        gpu: false,
        memoryUsage: 89247744,
      })),
      jobQueueStatus: { remainingCapacity: 100 - m.pending, pendingRequests: m.pending },
    },
  ];
  const inference = await startFakeHttp({
    isMetrics: () => false,
    route: (req, _b, url) => (url.pathname === '/ping' ? json(200, { status: 'Healthy' }) : undefined),
  });
  const management = await startFakeHttp({
    isMetrics: () => false,
    notFound: error(
      404,
      'ResourceNotFoundException',
      'Requested resource is not found, please refer to API document.',
    ),
    route: (req, _b, url) => {
      if (url.pathname === '/models' && req.method === 'GET')
        return json(200, {
          models: [...fake.models].map(([modelName, m]) => ({ modelName, modelUrl: m.url })),
        });
      if (url.pathname === '/models' && req.method === 'POST') {
        const name = url.searchParams.get('model_name') ?? '';
        const mar = url.searchParams.get('url') ?? '';
        if (!mar) return error(400, 'BadRequestException', 'Parameter url is required.');
        if (fake.models.has(name))
          return error(
            409,
            'ConflictStatusException',
            `Model version 1.0 is already registered for model ${name}`,
          );
        const workers = Number(url.searchParams.get('initial_workers') ?? '0');
        fake.models.set(name, {
          url: mar,
          workers: Array.from({ length: workers }, () => 'READY' as const),
          pending: 0,
        });
        return json(200, {
          status: `Model "${name}" Version: 1.0 registered with ${workers} initial workers`,
        });
      }
      const one = /^\/models\/([^/]+)$/.exec(url.pathname);
      if (!one) return undefined;
      const name = decodeURIComponent(one[1]!);
      const m = fake.models.get(name);
      if (!m) return error(404, 'ModelNotFoundException', `Model not found: ${name}`);
      if (req.method === 'GET') return json(200, describe(name, m));
      if (req.method === 'DELETE') {
        fake.models.delete(name);
        return json(200, { status: `Model "${name}" unregistered` });
      }
      return undefined;
    },
  });
  const metricsServer = await startFakeHttp({
    isMetrics: (p) => p === '/metrics',
    route: (_r, _b, url) =>
      url.pathname === '/metrics'
        ? text(200, fake.metrics, 'text/plain; version=0.0.4; charset=utf-8')
        : undefined,
  });
  const fake: FakeTorchServe = {
    inference,
    management,
    metricsServer,
    url: inference.url,
    managementUrl: management.url,
    metricsUrl: `${metricsServer.url}/metrics`,
    metrics: init.metrics ?? '',
    models: new Map(Object.entries(init.models ?? {})),
    close: async () => {
      await Promise.all([inference.close(), management.close(), metricsServer.close()]);
    },
  };
  return fake;
}
