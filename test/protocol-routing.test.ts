// Routing by protocol, end to end: one meshd with a vLLM, a TGI and a Triton simulator. Each
// protocol's requests reach only endpoints that speak it, and every error comes in the client's
// own protocol shape, mid-stream TGI failures included.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setSimFault, startFlavorMesh, type FlavorMesh } from './helpers/flavor-mesh.ts';

let mesh: FlavorMesh;
before(async () => {
  mesh = await startFlavorMesh([
    { name: 'vllm-0', model: 'llm', flavor: 'vllm' },
    { name: 'tgi-0', model: 'llm', flavor: 'tgi' },
    { name: 'triton-0', model: 'llm', flavor: 'triton' },
    { name: 'vllm-1', model: 'vllm-only', flavor: 'vllm' },
  ]);
});
after(() => mesh.close());

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${mesh.routerUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // SSE or empty: callers read `text`
  }
  return {
    status: res.status,
    text,
    json,
    endpoint: res.headers.get('x-infermesh-endpoint'),
    code: res.headers.get('mesh-error-code'),
  };
}

const tgiBody = { inputs: 'Tell me about meshes', parameters: { max_new_tokens: 4 } };
const inferBody = {
  inputs: [
    { name: 'text_input', datatype: 'BYTES', shape: [1], data: ['Hello'] },
    { name: 'sampling_parameters', datatype: 'BYTES', shape: [1], data: ['{"max_tokens":3}'] },
  ],
};

test('OpenAI requests go to endpoints speaking OpenAI: vLLM and TGI, never Triton', async (t) => {
  if (mesh.registeredByHand.length > 0) {
    t.diagnostic(`records written by the fixture (no adapter yet): ${mesh.registeredByHand.join(', ')}`);
  }
  const seen = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const res = await post('/v1/chat/completions', {
      model: 'llm',
      messages: [{ role: 'user', content: `hi ${i}` }],
      max_tokens: 2,
    });
    assert.equal(res.status, 200, res.text);
    seen.add(res.endpoint ?? '');
  }
  const allowed = new Set([mesh.endpointId('vllm-0'), mesh.endpointId('tgi-0')]);
  for (const endpoint of seen) assert.ok(allowed.has(endpoint), endpoint);
  const models = (await (await fetch(`${mesh.routerUrl}/v1/models`)).json()) as {
    data: Array<{ id: string }>;
  };
  assert.deepEqual(
    models.data.map((m) => m.id),
    ['llm', 'vllm-only'],
  );
});

test('/generate goes only to TGI; the model comes from x-model, ?model= or the one TGI model', async () => {
  for (const [path, headers] of [
    ['/generate', {}],
    ['/generate', { 'x-model': 'llm' }],
    ['/generate?model=llm', {}],
  ] as const) {
    const res = await post(path, tgiBody, headers);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.endpoint, mesh.endpointId('tgi-0'));
    assert.equal(typeof res.json.generated_text, 'string');
  }
});

test('/generate_stream relays TGI SSE unchanged: data: without a space, no [DONE]', async () => {
  const res = await post('/generate_stream', {
    ...tgiBody,
    parameters: { max_new_tokens: 5, details: true },
  });
  assert.equal(res.status, 200);
  assert.equal(res.endpoint, mesh.endpointId('tgi-0'));
  const events = res.text.split('\n\n').filter(Boolean);
  assert.equal(events.length, 5);
  assert.ok(events.every((e) => e.startsWith('data:{')));
  const last = JSON.parse(events.at(-1)!.slice(5)) as {
    generated_text: string;
    details: { generated_tokens: number };
  };
  assert.equal(last.details.generated_tokens, 5);
  assert.doesNotMatch(res.text, /\[DONE\]/);
});

test('KServe v2 infer goes only to Triton, versioned or not', async () => {
  for (const path of ['/v2/models/llm/infer', '/v2/models/llm/versions/1/infer']) {
    const res = await post(path, inferBody);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.endpoint, mesh.endpointId('triton-0'));
    const outputs = res.json.outputs as Array<{ name: string; datatype: string; data: string[] }>;
    assert.equal(outputs[0]?.name, 'text_output');
    assert.equal(outputs[0]?.datatype, 'BYTES');
  }
});

test('a protocol no endpoint speaks for the model is 503; an unknown model 404; each in its own shape', async () => {
  const tgi = await post('/generate', tgiBody, { 'x-model': 'vllm-only' });
  assert.equal(tgi.status, 503);
  assert.equal(tgi.code, 'no_healthy_endpoint');
  assert.deepEqual(Object.keys(tgi.json), ['error', 'error_type']);
  assert.equal(tgi.json.error_type, 'overloaded');
  assert.match(String(tgi.json.error), /vllm-only.*tgi/);

  const kserve = await post('/v2/models/vllm-only/infer', inferBody);
  assert.equal(kserve.status, 503);
  assert.equal(kserve.code, 'no_healthy_endpoint');
  assert.deepEqual(Object.keys(kserve.json), ['error']);

  const unknownTgi = await post('/generate', tgiBody, { 'x-model': 'ghost' });
  assert.equal(unknownTgi.status, 404);
  assert.equal(unknownTgi.code, 'model_not_found');
  assert.equal(unknownTgi.json.error_type, 'validation');

  const unknownKserve = await post('/v2/models/ghost/infer', inferBody);
  assert.equal(unknownKserve.status, 404);
  assert.equal(unknownKserve.code, 'model_not_found');
  assert.match(String(unknownKserve.json.error), /ghost/);

  const openai = await post('/v1/chat/completions', { model: 'ghost', messages: [] });
  assert.equal(openai.status, 404);
  assert.equal((openai.json.error as { code: string }).code, 'model_not_found');
});

test('bad requests get errors in the shape of the protocol their path belongs to', async () => {
  const tgiJson = await post('/generate', '{"inputs": ');
  assert.equal(tgiJson.status, 400);
  assert.equal(tgiJson.code, 'invalid_request');
  assert.deepEqual(tgiJson.json, { error: tgiJson.json.error, error_type: 'validation' });

  const kserveJson = await post('/v2/models/llm/infer', '[1]');
  assert.equal(kserveJson.status, 400);
  assert.deepEqual(Object.keys(kserveJson.json), ['error']);

  const wrongMethod = await fetch(`${mesh.routerUrl}/v2/models/llm/infer`);
  assert.equal(wrongMethod.status, 400);
  assert.deepEqual(Object.keys((await wrongMethod.json()) as object), ['error']);

  const unknownPath = await fetch(`${mesh.routerUrl}/v2/repository/index`, { method: 'POST' });
  assert.equal(unknownPath.status, 404);
  assert.equal(unknownPath.headers.get('mesh-error-code'), 'not_found');
  assert.deepEqual(Object.keys((await unknownPath.json()) as object), ['error']);

  const media = await post('/generate', 'x', { 'content-type': 'text/plain' });
  assert.equal(media.status, 415);
  assert.equal(media.json.error_type, 'validation');
});

test('a TGI stream cut mid-way ends with a TGI-shaped error event, and no [DONE]', async () => {
  await setSimFault(mesh.simUrl('tgi-0'), 'reset-mid-stream');
  const res = await post('/generate_stream', { ...tgiBody, parameters: { max_new_tokens: 40 } });
  assert.equal(res.status, 200);
  const events = res.text.split('\n\n').filter(Boolean);
  assert.ok(events.length >= 2, res.text);
  assert.ok(events[0]!.startsWith('data:{"index":1,'), events[0]);
  const last = events.at(-1)!;
  assert.ok(last.startsWith('data:{"error":'), last);
  const error = JSON.parse(last.slice(5)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(error), ['error', 'error_type']);
  assert.equal(error.error_type, 'incomplete_generation');
  assert.doesNotMatch(res.text, /\[DONE\]/);
});

test('an upstream failing before its first byte, with no other endpoint to retry, is 502 in KServe shape', async () => {
  await setSimFault(mesh.simUrl('triton-0'), 'error-500', 2);
  const res = await post('/v2/models/llm/infer', inferBody);
  assert.equal(res.status, 502);
  assert.equal(res.code, 'upstream_error');
  assert.deepEqual(Object.keys(res.json), ['error']);
  await setSimFault(mesh.simUrl('triton-0'), 'none', 0);
  assert.equal((await post('/v2/models/llm/infer', inferBody)).status, 200, 'the daemon still serves');
});
