// OpenTelemetry traces end to end: an in-process meshd exports to a small OTLP/HTTP receiver in
// this test; a client's traceparent is joined by router.request, whose children are the pick's
// spans and one router.upstream per attempt (retries and hedges their own), and the runtime gets
// the upstream span as its parent. Off by default: nothing exported, the client's header forwarded.
// With router worker threads: test/tracing-workers.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { RunningMeshd } from '../src/agent/meshd.ts';
import { bind } from '../src/core/listen.ts';
import { chatCompletion } from './helpers/chat-request.ts';
import { startOtlpReceiver, type OtlpReceiver } from './helpers/otlp-receiver.ts';
import {
  clientContext,
  MODEL,
  named,
  ofTrace,
  requestTree,
  startBackends,
  startRouter,
} from './helpers/trace-mesh.ts';

const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

describe('tracing on: protobuf to the configured collector, one router thread', () => {
  let receiver: OtlpReceiver;
  let backends: Awaited<ReturnType<typeof startBackends>>;
  let meshd: RunningMeshd | undefined;
  const logs: string[] = [];
  before(async () => {
    // Spans go out 100 ms after they end, so each test sees its own without stopping the node.
    process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
    receiver = await startOtlpReceiver();
    backends = await startBackends();
    meshd = await startRouter(
      backends.backends,
      {
        observability: { tracing: { enabled: true, endpoint: receiver.url, serviceName: 'mesh-under-test' } },
        router: {
          listen: { port: 0 },
          workers: 1,
          retries: 1,
          hedging: { enabled: true, budget: 'fixed', fixedBudgetMs: 500, maxExtraPercent: 100, burst: 10 },
        },
      },
      logs,
    );
  });
  after(async () => {
    delete process.env.OTEL_BSP_SCHEDULE_DELAY;
    await meshd?.stop();
    await Promise.all([receiver?.close(), ...(backends?.backends ?? []).map((b) => b.close())]);
  });

  /** A streamed chat completion under a fresh client trace, once its spans (`upstreams` attempts) are in. */
  async function tracedRequest(upstreams: number) {
    const client = clientContext();
    const res = await chatCompletion(
      meshd!.routerUrl!,
      MODEL,
      { traceparent: client.traceparent },
      { stream: true },
    );
    assert.equal(res.status, 200, res.text);
    await receiver.waitFor(
      (s) =>
        named(ofTrace(s, client.traceId), 'router.upstream').length === upstreams &&
        named(ofTrace(s, client.traceId), 'router.request').length === 1,
    );
    return { client, res };
  }

  test('router.request joins the client trace; choose, admission and upstream are its children; the runtime sees the upstream span', async () => {
    const { client, res } = await tracedRequest(1);
    assert.match(receiver.contentTypes[0] ?? '', /^application\/x-protobuf/);
    const { request, choose, admission, upstream } = requestTree(receiver.spans, client.traceId);
    assert.equal(request.parentSpanId, client.spanId, 'router.request is a child of the client span');
    assert.equal(request.kind, SERVER);
    assert.equal(request.resource['service.name'], 'mesh-under-test');
    assert.equal(request.attributes['gen_ai.request.model'], MODEL);
    assert.equal(request.attributes['http.response.status_code'], 200);
    assert.equal(request.attributes['infermesh.stream'], true);
    assert.equal(typeof request.attributes['infermesh.ttft_ms'], 'number');
    assert.equal(request.attributes['gen_ai.usage.output_tokens'], 3);
    assert.equal(choose.length, 1);
    assert.equal(admission.length, 1);
    assert.equal(upstream.length, 1);
    const pick = choose[0]!;
    assert.equal(pick.attributes['infermesh.choose.candidates'], 2);
    assert.equal(pick.attributes['infermesh.choose.profile'], 'default');
    assert.equal(pick.attributes['infermesh.endpoint'], res.endpoint);
    assert.equal((pick.attributes['infermesh.choose.top.endpoints'] as string[])[0], res.endpoint);
    assert.equal((pick.attributes['infermesh.choose.top.scores'] as number[]).length, 2);
    const scorers = JSON.parse(String(pick.attributes['infermesh.choose.top.scorers'])) as object[];
    assert.ok(Object.keys(scorers[0]!).length > 0, 'the best candidate’s score per scorer');
    assert.equal(admission[0]!.attributes['infermesh.admission.admitted'], true);
    const up = upstream[0]!;
    assert.equal(up.kind, CLIENT);
    assert.equal(up.attributes['infermesh.endpoint'], res.endpoint);
    assert.equal(up.attributes['infermesh.attempt'], 0);
    assert.equal(up.attributes['infermesh.hedge'], false);
    assert.equal(up.attributes['infermesh.upstream.outcome'], 'ok');
    assert.equal(up.attributes['gen_ai.usage.output_tokens'], 3);
    assert.ok(
      up.events.some(
        (e) => e.name === 'first_token' && typeof e.attributes['infermesh.ttft_ms'] === 'number',
      ),
    );
    const seen = backends.state.seen.at(-1)!;
    assert.equal(
      seen.traceparent,
      `00-${client.traceId}-${up.spanId}-01`,
      'the runtime’s parent is router.upstream',
    );
  });

  test('a retry is its own router.upstream span, marked, after the failed one; its warning log carries trace_id', async () => {
    backends.state.mode = 'fail-first';
    const { client } = await tracedRequest(2);
    const { request, choose, upstream } = requestTree(receiver.spans, client.traceId);
    assert.equal(choose.length, 2, 'the retry picks again');
    const [failed, retry] = [...upstream].sort(
      (a, b) => Number(a.attributes['infermesh.attempt']) - Number(b.attributes['infermesh.attempt']),
    );
    assert.equal(failed!.attributes['infermesh.upstream.outcome'], 'failed');
    assert.equal(failed!.attributes['error.type'], 'upstream_error');
    assert.equal(failed!.status.code, ERROR);
    assert.equal(retry!.attributes['infermesh.attempt'], 1);
    assert.equal(retry!.attributes['infermesh.retry'], true);
    assert.equal(retry!.attributes['infermesh.upstream.outcome'], 'ok');
    assert.notEqual(failed!.attributes['infermesh.endpoint'], retry!.attributes['infermesh.endpoint']);
    const parents = backends.state.seen.slice(-2).map((s) => s.traceparent);
    assert.deepEqual(
      parents,
      [failed, retry].map((s) => `00-${client.traceId}-${s!.spanId}-01`),
    );
    const warning = logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'upstream failed before first byte' && l.trace_id === client.traceId);
    assert.ok(warning, 'the retry’s warning carries the trace id');
    assert.equal(warning.span_id, request.spanId);
  });

  test('a hedge is its own router.upstream span, marked; the late primary is marked lost', async () => {
    backends.state.mode = 'slow-first';
    const { client, res } = await tracedRequest(2);
    const { choose, upstream } = requestTree(receiver.spans, client.traceId);
    const hedge = upstream.find((s) => s.attributes['infermesh.hedge'] === true);
    const primary = upstream.find((s) => s.attributes['infermesh.hedge'] === false);
    assert.ok(hedge && primary, upstream.map((s) => JSON.stringify(s.attributes)).join('\n'));
    assert.equal(hedge.attributes['infermesh.upstream.outcome'], 'ok');
    assert.equal(hedge.attributes['infermesh.endpoint'], res.endpoint);
    assert.equal(primary.attributes['infermesh.upstream.outcome'], 'lost');
    assert.ok(
      choose.some((s) => s.attributes['infermesh.hedge'] === true),
      'the hedge’s pick is marked',
    );
    const parents = new Set(backends.state.seen.slice(-2).map((s) => s.traceparent));
    assert.deepEqual(parents, new Set([primary, hedge].map((s) => `00-${client.traceId}-${s.spanId}-01`)));
  });

  test('scrape rounds and control API calls are traced', async () => {
    const client = clientContext();
    const res = await fetch(`${meshd!.apiUrl}/infermesh.control.v1.ControlPlane/ListNodes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: client.traceparent },
      body: '{}',
    });
    assert.equal(res.status, 200, await res.text());
    const rpc = 'infermesh.control.v1.ControlPlane/ListNodes';
    await receiver.waitFor(
      (s) =>
        named(ofTrace(s, client.traceId), rpc).length === 1 &&
        named(s, 'runtime.scrape.endpoint').length >= 2,
    );
    const call = named(ofTrace(receiver.spans, client.traceId), rpc)[0]!;
    assert.equal(call.parentSpanId, client.spanId);
    assert.equal(call.kind, SERVER);
    assert.equal(call.attributes['rpc.method'], 'ListNodes');
    const round = named(receiver.spans, 'runtime.scrape').find(
      (r) => named(ofTrace(receiver.spans, r.traceId), 'runtime.scrape.endpoint').length === 2,
    );
    assert.ok(round, 'a round with both endpoints');
    const endpoints = ofTrace(receiver.spans, round.traceId).filter(
      (s) => s.name === 'runtime.scrape.endpoint',
    );
    assert.ok(
      endpoints.every(
        (e) => e.parentSpanId === round.spanId && e.attributes['infermesh.scrape.result'] === 'ok',
      ),
    );
    assert.deepEqual(endpoints.map((e) => e.attributes['infermesh.endpoint']).sort(), [
      'test-node/ep-0',
      'test-node/ep-1',
    ]);
  });
});

describe('tracing off (the default)', () => {
  test('nothing is exported, even with an endpoint configured, and the runtime gets the client’s traceparent', async () => {
    const receiver = await startOtlpReceiver();
    const { state, backends } = await startBackends();
    try {
      const meshd = await startRouter(backends, {
        observability: { tracing: { endpoint: receiver.url } },
        router: { listen: { port: 0 }, workers: 1 },
      });
      const client = clientContext();
      const res = await chatCompletion(
        meshd.routerUrl!,
        MODEL,
        { traceparent: client.traceparent },
        { stream: true },
      );
      assert.equal(res.status, 200, res.text);
      await meshd.stop();
      assert.equal(state.seen.at(-1)?.traceparent, client.traceparent);
      assert.equal(receiver.contentTypes.length, 0, 'no export request');
    } finally {
      await Promise.all([receiver.close(), ...backends.map((b) => b.close())]);
    }
  });
});

describe('a collector that never answers', () => {
  test('requests are served as usual and the stop waits for it no longer than shutdownTimeoutMs', async () => {
    // Accepts export requests and never answers them.
    const hung = createServer(() => undefined);
    const url = (await bind(hung, { host: '127.0.0.1', port: 0 })).url;
    const { backends } = await startBackends();
    try {
      const meshd = await startRouter(backends, {
        // A short export deadline: the export left behind by the stop gives up soon after it.
        observability: {
          tracing: { enabled: true, endpoint: url, shutdownTimeoutMs: 300, exportTimeoutMs: 3000 },
        },
        router: { listen: { port: 0 }, workers: 1 },
      });
      const res = await chatCompletion(meshd.routerUrl!, MODEL, {}, { stream: true });
      assert.equal(res.status, 200, res.text);
      const t0 = performance.now();
      await meshd.stop();
      const ms = performance.now() - t0;
      assert.ok(ms < 2000, `stopped in ${Math.round(ms)} ms (export deadline: 3 s)`);
    } finally {
      hung.closeAllConnections();
      await new Promise((resolve) => hung.close(resolve));
      await Promise.all(backends.map((b) => b.close()));
    }
  });
});
