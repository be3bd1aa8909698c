// The Triton flavour over real sockets, checked against KServe v2 and Triton's formats (runtime-formats.md 3).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSimServer, type SimServer } from '../../server.ts';

let sim: SimServer;
before(async () => {
  sim = await createSimServer({ flavor: 'triton', model: 'llm', timeScale: 50 });
});
after(() => sim.close());

const post = (path: string, body?: unknown) =>
  fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const text = (s: string) => ({ name: 'text_input', datatype: 'BYTES', shape: [1], data: [s] });
const sampling = (o: object) => ({
  name: 'sampling_parameters',
  datatype: 'BYTES',
  shape: [1],
  data: [JSON.stringify(o)],
});

test('health, server metadata, model metadata and readiness', async () => {
  assert.equal((await fetch(`${sim.url}/v2/health/live`)).status, 200);
  assert.equal((await fetch(`${sim.url}/v2/health/ready`)).status, 200);
  const server = (await (await fetch(`${sim.url}/v2`)).json()) as { name: string; extensions: string[] };
  assert.equal(server.name, 'triton');
  assert.ok(server.extensions.includes('model_repository'));
  const meta = (await (await fetch(`${sim.url}/v2/models/llm`)).json()) as {
    name: string;
    versions: string[];
    inputs: Array<{ name: string; datatype: string }>;
    outputs: Array<{ name: string; datatype: string }>;
  };
  assert.equal(meta.name, 'llm');
  assert.deepEqual(meta.versions, ['1']);
  assert.ok(meta.inputs.some((i) => i.name === 'text_input' && i.datatype === 'BYTES'));
  assert.deepEqual(
    meta.outputs.map((o) => o.name),
    ['text_output'],
  );
  assert.equal((await fetch(`${sim.url}/v2/models/llm/ready`)).status, 200);
  assert.equal((await fetch(`${sim.url}/v2/models/llm/versions/1/ready`)).status, 200);
  assert.equal((await fetch(`${sim.url}/v2/models/other/ready`)).status, 400);
});

test('infer: BYTES text_input in, BYTES text_output out, id first, max_tokens from sampling_parameters', async () => {
  const res = await post('/v2/models/llm/versions/1/infer', {
    id: '42',
    inputs: [
      text('Hello'),
      sampling({ max_tokens: 4 }),
      { name: 'exclude_input_in_output', datatype: 'BOOL', shape: [1], data: [true] },
    ],
    outputs: [{ name: 'text_output' }],
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as {
    id: string;
    model_name: string;
    model_version: string;
    outputs: Array<{ name: string; datatype: string; shape: number[]; data: string[] }>;
  };
  assert.deepEqual(Object.keys(body), ['id', 'model_name', 'model_version', 'outputs']);
  assert.equal(body.id, '42');
  assert.equal(body.model_name, 'llm');
  assert.equal(body.model_version, '1');
  const out = body.outputs[0]!;
  assert.deepEqual([out.name, out.datatype, out.shape], ['text_output', 'BYTES', [1]]);
  assert.equal(out.data[0]!.split(' ').filter(Boolean).length > 0, true);
  const full = (await (
    await post('/v2/models/llm/infer', { inputs: [text('Hello'), sampling({ max_tokens: 4 })] })
  ).json()) as {
    outputs: Array<{ data: string[] }>;
  };
  assert.equal(full.outputs[0]!.data[0], `Hello${out.data[0]}`, 'the prompt leads unless excluded');
});

test('bad infer requests are 400 {"error"}; unknown models and versions too', async () => {
  const cases: Array<[string, unknown]> = [
    ['/v2/models/llm/infer', { inputs: [] }],
    ['/v2/models/llm/infer', { inputs: [{ name: 'foo', datatype: 'BYTES', shape: [1], data: ['x'] }] }],
    ['/v2/models/llm/infer', { inputs: [{ name: 'text_input', datatype: 'INT32', shape: [1], data: [1] }] }],
    [
      '/v2/models/llm/infer',
      { inputs: [{ name: 'text_input', datatype: 'BYTES', shape: [2], data: ['x'] }] },
    ],
    ['/v2/models/llm/infer', { inputs: [text('x')], outputs: [{ name: 'nope' }] }],
    ['/v2/models/llm/infer', { inputs: [text('x'), sampling({ max_tokens: 0 })] }],
    ['/v2/models/llm/infer', [1, 2]],
    ['/v2/models/other/infer', { inputs: [text('x')] }],
    ['/v2/models/llm/versions/7/infer', { inputs: [text('x')] }],
  ];
  for (const [path, body] of cases) {
    const res = await post(path, body);
    assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
    const json = (await res.json()) as { error: unknown };
    assert.deepEqual(Object.keys(json), ['error']);
    assert.equal(typeof json.error, 'string');
  }
});

test('repository index, unload and load change readiness and inference', async () => {
  assert.deepEqual(await (await post('/v2/repository/index', {})).json(), [
    { name: 'llm', version: '1', state: 'READY' },
  ]);
  assert.equal((await post('/v2/repository/models/llm/unload')).status, 200);
  assert.deepEqual(await (await post('/v2/repository/index')).json(), [
    { name: 'llm', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' },
  ]);
  assert.deepEqual(await (await post('/v2/repository/index', { ready: true })).json(), []);
  assert.equal((await fetch(`${sim.url}/v2/health/ready`)).status, 400);
  assert.equal((await fetch(`${sim.url}/v2/models/llm/ready`)).status, 400);
  assert.equal((await post('/v2/models/llm/infer', { inputs: [text('x')] })).status, 400);
  assert.doesNotMatch(await (await fetch(`${sim.url}/metrics`)).text(), /model="llm"/);
  assert.equal((await post('/v2/repository/models/llm/load')).status, 200);
  assert.equal((await fetch(`${sim.url}/v2/models/llm/ready`)).status, 200);
  assert.equal((await post('/v2/repository/models/ghost/load')).status, 400);
});

test('/metrics: Triton names, model and version labels, cumulative microsecond counters', async () => {
  const before = await (await fetch(`${sim.url}/metrics`)).text();
  const success = (t: string) =>
    Number(/^nv_inference_request_success\{model="llm",version="1"\} (\d+)$/m.exec(t)?.[1]);
  assert.equal(
    (await post('/v2/models/llm/infer', { inputs: [text('count me'), sampling({ max_tokens: 3 })] })).status,
    200,
  );
  const page = await (await fetch(`${sim.url}/metrics`)).text();
  assert.equal(success(page), success(before) + 1);
  for (const name of [
    'nv_inference_pending_request_count',
    'nv_inference_count',
    'nv_inference_exec_count',
    'nv_inference_request_duration_us',
    'nv_inference_queue_duration_us',
    'nv_inference_compute_infer_duration_us',
  ]) {
    assert.match(page, new RegExp(`^${name}\\{model="llm",version="1"\\} \\d+$`, 'm'), name);
  }
  assert.match(page, /^# TYPE nv_inference_request_duration_us counter$/m);
  assert.match(page, /^nv_inference_request_failure\{model="llm",reason="OTHER",version="1"\} [1-9]\d*$/m);
  const us = Number(/^nv_inference_request_duration_us\{[^}]*\} (\d+)$/m.exec(page)?.[1]);
  assert.ok(us > 0);
});

test('faults: error-500 in v2 shape; reset-mid-stream cuts the answer; the next request is served', async () => {
  sim.setFault({ mode: 'error-500' });
  const failed = await post('/v2/models/llm/infer', { inputs: [text('x')] });
  assert.equal(failed.status, 500);
  assert.deepEqual(Object.keys((await failed.json()) as object), ['error']);
  sim.setFault({ mode: 'reset-mid-stream' });
  const cut = await post('/v2/models/llm/infer', { inputs: [text('x'), sampling({ max_tokens: 8 })] });
  await assert.rejects(cut.text());
  sim.setFault({ mode: 'reset-before-headers' });
  await assert.rejects(post('/v2/models/llm/infer', { inputs: [text('x')] }));
  assert.equal((await post('/v2/models/llm/infer', { inputs: [text('x')] })).status, 200);
});
