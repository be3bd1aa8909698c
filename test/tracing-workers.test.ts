// Tracing with the router on two worker threads, configured by the OTEL_* variables alone (JSON):
// each thread sets up its own provider and exports its own spans, and meshd's stop flushes them.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chatCompletion } from './helpers/chat-request.ts';
import { startOtlpReceiver } from './helpers/otlp-receiver.ts';
import { clientContext, MODEL, requestTree, startBackends, startRouter } from './helpers/trace-mesh.ts';

describe('router.workers: 2, configured by OTEL_* variables alone, JSON', () => {
  const vars = {
    OTEL_EXPORTER_OTLP_ENDPOINT: '',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_SERVICE_NAME: 'mesh-workers',
  };
  after(() => {
    for (const name of Object.keys(vars)) delete process.env[name];
  });

  test('each worker thread traces and exports itself; stop flushes what is queued', async () => {
    const receiver = await startOtlpReceiver();
    const { state, backends } = await startBackends();
    try {
      // Read by every thread at its start (a worker's environment is a copy of this one).
      Object.assign(process.env, { ...vars, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
      const meshd = await startRouter(backends, { router: { listen: { port: 0 }, workers: 2 } });
      assert.equal(meshd.routerWorkers, 2);
      const clients = [0, 1, 2, 3, 4, 5].map(() => clientContext());
      // One connection each: the kernel spreads them over the workers.
      for (const client of clients) {
        const res = await chatCompletion(
          meshd.routerUrl!,
          MODEL,
          { traceparent: client.traceparent },
          { stream: true },
        );
        assert.equal(res.status, 200, res.text);
      }
      // The batch processor's default delay (5 s) has not passed: these spans leave at the stop.
      await meshd.stop();
      assert.ok(
        receiver.contentTypes.length > 0 &&
          receiver.contentTypes.every((t) => t.startsWith('application/json')),
      );
      const workers = new Set<unknown>();
      for (const client of clients) {
        const { request, choose, upstream } = requestTree(receiver.spans, client.traceId);
        assert.equal(request.parentSpanId, client.spanId);
        assert.equal(request.resource['service.name'], 'mesh-workers');
        assert.equal(
          request.resource['infermesh.router.worker'],
          request.attributes['infermesh.router.worker'],
        );
        workers.add(request.attributes['infermesh.router.worker']);
        assert.equal(choose.length, 1);
        assert.equal(upstream.length, 1);
        const parent = `00-${client.traceId}-${upstream[0]!.spanId}-01`;
        assert.ok(
          state.seen.some((s) => s.traceparent === parent),
          'the runtime’s parent is router.upstream',
        );
      }
      assert.ok(
        [...workers].every((w) => w === 0 || w === 1),
        [...workers].join(', '),
      );
    } finally {
      await Promise.all([receiver.close(), ...backends.map((b) => b.close())]);
    }
  });
});
