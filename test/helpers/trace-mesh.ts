/**
 * Test fixture for the tracing tests: two vLLM-shaped backends that record the `traceparent` of
 * every inference request they get and can fail or delay the next one, an in-process meshd (router
 * + gpu) over them whose logs the test may keep, a client's W3C trace context, and lookups over
 * the spans an OTLP receiver got (`otlp-receiver.ts`).
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { parseConfig, type ConfigInput } from '../../src/core/config.ts';
import { startMeshd, type RunningMeshd } from '../../src/agent/meshd.ts';
import { createLogger } from '../../src/observability/log.ts';
import { waitFor } from './local-mesh.ts';
import type { ReceivedSpan } from './otlp-receiver.ts';
import { startScriptedBackend, type ScriptedBackend } from './scripted-backend.ts';

export const MODEL = 'sim-llama-3-8b';

/** What the runtimes do with the next request: answer, fail it with 500, or answer it late. */
export type Mode = 'ok' | 'fail-first' | 'slow-first';

/** Two vLLM-shaped backends that record the `traceparent` of every inference request they get. */
export async function startBackends() {
  const state = { mode: 'ok' as Mode, seen: [] as Array<{ backend: number; traceparent?: string }> };
  const script = (backend: number) => (req: IncomingMessage, res: ServerResponse) => {
    state.seen.push({ backend, traceparent: req.headers.traceparent as string | undefined });
    const mode = state.mode;
    state.mode = 'ok';
    if (mode === 'fail-first') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('engine dead');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const timer = setTimeout(
      () => {
        const chunk = (o: object) => `data: ${JSON.stringify({ id: `b${backend}`, model: MODEL, ...o })}\n\n`;
        for (const word of ['one', ' two', ' three'])
          res.write(chunk({ choices: [{ delta: { content: word } }] }));
        res.write(chunk({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 3 } }));
        res.end('data: [DONE]\n\n');
      },
      mode === 'slow-first' ? 5000 : 0,
    );
    res.on('close', () => clearTimeout(timer));
  };
  const backends = [
    await startScriptedBackend(MODEL, script(0)),
    await startScriptedBackend(MODEL, script(1)),
  ];
  return { state, backends };
}

export async function startRouter(
  backends: ScriptedBackend[],
  extra: Partial<ConfigInput>,
  logs?: string[],
): Promise<RunningMeshd> {
  const config = parseConfig({
    apiVersion: 'infermesh/v1',
    control: { store: { embedded: { path: ':memory:' } } },
    node: { id: 'test-node', roles: ['router', 'gpu'] },
    api: { port: 0 },
    metrics: { port: 0 },
    log: { level: logs ? 'debug' : 'silent' },
    gpu: {
      scrapeIntervalMs: 100,
      runtimes: backends.map((b, i) => ({ name: `ep-${i}`, url: b.url, runtime: 'vllm' as const })),
    },
    ...extra,
  });
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs?.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const meshd = await startMeshd(config, createLogger(config.log.level, {}, sink));
  await waitFor(
    () => meshd.store.list().filter((s) => s.health === 'healthy').length === backends.length,
    10_000,
    'endpoints scraped',
  );
  return meshd;
}

/** A client's W3C trace context: a fresh trace id and its own span id, sampled. */
export function clientContext() {
  const hex = (n: number) =>
    [...crypto.getRandomValues(new Uint8Array(n))].map((b) => b.toString(16).padStart(2, '0')).join('');
  const traceId = hex(16);
  const spanId = hex(8);
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

export const ofTrace = (spans: ReceivedSpan[], traceId: string) => spans.filter((s) => s.traceId === traceId);
export const named = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);

/** The request span of a trace, and its children by name. */
export function requestTree(spans: ReceivedSpan[], traceId: string) {
  const trace = ofTrace(spans, traceId);
  const [request, ...others] = named(trace, 'router.request');
  assert.ok(request, `no router.request in trace ${traceId}: ${trace.map((s) => s.name).join(', ')}`);
  assert.equal(others.length, 0);
  const children = (name: string) =>
    trace.filter((s) => s.name === name && s.parentSpanId === request.spanId);
  return {
    request,
    choose: children('router.choose'),
    admission: children('router.admission'),
    upstream: children('router.upstream'),
  };
}
