// Every bad input and upstream failure the issue names, sent over real sockets; the daemon survives all.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLocalMesh, waitFor, type LocalMesh } from './helpers/local-mesh.ts';

let mesh: LocalMesh;
before(async () => {
  mesh = await startLocalMesh({
    sims: 2,
    router: { maxBodyBytes: 4096, upstreamHeadersTimeoutMs: 300 },
    gpu: { scrapeIntervalMs: 50, unhealthyAfter: 2 },
  });
});
after(() => mesh.close());

const chat = { model: 'sim-llama-3-8b', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 };

async function post(body: string | object, headers: Record<string, string> = {}) {
  const res = await fetch(`${mesh.routerUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: { error?: { code?: string; message?: string; type?: string } } = {};
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    // not JSON: left empty, the assertion on it will say so
  }
  return { status: res.status, json, text, headers: res.headers };
}

test('malformed JSON is 400 invalid_request', async () => {
  const res = await post('{"model": ');
  assert.equal(res.status, 400);
  assert.equal(res.json.error?.code, 'invalid_request');
  assert.equal(res.json.error?.type, 'invalid_request_error');
});

test('a body that is not an object is 400', async () => {
  assert.equal((await post('[1,2]')).status, 400);
});

test('missing model and unknown model are 404 model_not_found', async () => {
  const missing = await post({ messages: [] });
  assert.equal(missing.status, 404);
  assert.equal(missing.json.error?.code, 'model_not_found');
  const unknown = await post({ ...chat, model: 'gpt-17' });
  assert.equal(unknown.status, 404);
  assert.match(unknown.json.error?.message ?? '', /gpt-17/);
});

test('a body over the limit is 413, declared or streamed', async () => {
  const big = { ...chat, messages: [{ role: 'user', content: 'x'.repeat(10_000) }] };
  const res = await post(big);
  assert.equal(res.status, 413);
  assert.equal(res.json.error?.code, 'payload_too_large');
});

test('a non-JSON content type is 415; an unknown path is 404', async () => {
  assert.equal((await post('hello', { 'content-type': 'text/plain' })).status, 415);
  const res = await fetch(`${mesh.routerUrl}/v1/nothing-here`);
  assert.equal(res.status, 404);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'not_found');
});

test('an upstream failing before the first byte is retried once on another endpoint', async () => {
  mesh.sims[0]!.setFault({ mode: 'reset-before-headers', count: 1000 });
  try {
    const endpoints = new Set<string>();
    for (let i = 0; i < 16; i++) {
      const res = await post(chat);
      assert.equal(res.status, 200, res.text);
      endpoints.add(res.headers.get('x-infermesh-endpoint') ?? '');
    }
    assert.deepEqual([...endpoints], ['test-node/sim-1']);
  } finally {
    mesh.sims[0]!.setFault({ mode: 'none', count: 0 });
  }
});

test('when every tried endpoint fails before the first byte the answer is 502', async () => {
  for (const sim of mesh.sims) sim.setFault({ mode: 'error-500', count: 1 });
  const res = await post(chat);
  assert.equal(res.status, 502);
  assert.equal(res.json.error?.code, 'upstream_error');
  assert.equal((await post(chat)).status, 200, 'faults are used up; the mesh serves again');
});

test('upstreams that never answer give 504 after the headers timeout, not a hang', async () => {
  for (const sim of mesh.sims) sim.setFault({ mode: 'hang', count: 1 });
  const res = await post(chat);
  assert.equal(res.status, 504);
  assert.equal(res.json.error?.code, 'upstream_timeout');
});

test('a stream cut after its first byte ends with an error event and [DONE]', async () => {
  for (const sim of mesh.sims) sim.setFault({ mode: 'reset-mid-stream', count: 1 });
  const res = await post({ ...chat, max_tokens: 50, stream: true });
  assert.equal(res.status, 200);
  const events = res.text.split('\n\n').filter(Boolean);
  assert.ok(events.length >= 3, res.text);
  assert.match(events.at(-2) ?? '', /^data: \{"error":\{.*"code":"upstream_error"/);
  assert.equal(events.at(-1), 'data: [DONE]');
  for (const sim of mesh.sims) sim.setFault({ mode: 'none', count: 0 });
});

test('no healthy endpoint is 503 once scrapes mark every endpoint unhealthy', async () => {
  const solo = await startLocalMesh({ sims: 1, gpu: { scrapeIntervalMs: 50, unhealthyAfter: 2 } });
  try {
    await solo.sims[0]!.close();
    await waitFor(() => solo.meshd.store.list().every((s) => s.health === 'unhealthy'), 5000, 'unhealthy');
    const res = await fetch(`${solo.routerUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat),
    });
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'no_healthy_endpoint');
  } finally {
    await solo.meshd.stop();
  }
});

test('after all of the above the daemon still serves', async () => {
  assert.equal((await post(chat)).status, 200);
});
