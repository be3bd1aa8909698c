// The TGI flavour over real sockets, checked against TGI's real formats (runtime-formats.md 2).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSimServer, type SimServer } from '../../server.ts';

let sim: SimServer;
before(async () => {
  sim = await createSimServer({ flavor: 'tgi', model: 'tgi-model', timeScale: 50, maxModelLen: 512 });
});
after(() => sim.close());

const post = (path: string, body: unknown) =>
  fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

test('GET /info has every required field of TGI Info, router fingerprint included', async () => {
  const info = (await (await fetch(`${sim.url}/info`)).json()) as Record<string, unknown>;
  for (const key of [
    'model_id',
    'max_concurrent_requests',
    'max_best_of',
    'max_stop_sequences',
    'max_input_tokens',
    'max_total_tokens',
    'validation_workers',
    'max_client_batch_size',
    'router',
    'version',
  ]) {
    assert.ok(key in info, key);
  }
  assert.equal(info.model_id, 'tgi-model');
  assert.equal(info.router, 'text-generation-router');
  assert.equal(info.max_total_tokens, 512);
  const health = await fetch(`${sim.url}/health`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), '');
});

test('POST /generate answers generated_text, and details with one token record per token', async () => {
  const plain = (await (
    await post('/generate', { inputs: 'Hello', parameters: { max_new_tokens: 5 } })
  ).json()) as {
    generated_text: string;
  };
  assert.deepEqual(Object.keys(plain), ['generated_text']);
  assert.ok(plain.generated_text.length > 0);
  const res = await post('/generate', { inputs: 'Hello', parameters: { max_new_tokens: 5, details: true } });
  assert.equal(res.headers.get('x-generated-tokens'), '5');
  const body = (await res.json()) as {
    generated_text: string;
    details: {
      finish_reason: string;
      generated_tokens: number;
      tokens: Array<{ id: number; text: string; logprob: number; special: boolean }>;
    };
  };
  assert.equal(body.generated_text, plain.generated_text, 'same prompt, same seed, same text');
  assert.equal(body.details.finish_reason, 'length');
  assert.equal(body.details.generated_tokens, 5);
  assert.equal(body.details.tokens.length, 5);
  assert.equal(body.details.tokens.map((t) => t.text).join(''), body.generated_text);
  assert.deepEqual(Object.keys(body.details.tokens[0]!), ['id', 'text', 'logprob', 'special']);
});

test('POST /generate_stream: data: without a space, one token per event, no [DONE]', async () => {
  const res = await post('/generate_stream', {
    inputs: 'Hi there',
    parameters: { max_new_tokens: 6, details: true },
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const text = await res.text();
  assert.ok(text.endsWith('\n\n'));
  const events = text.split('\n\n').filter(Boolean);
  assert.equal(events.length, 6);
  const parsed = events.map((e) => {
    assert.ok(e.startsWith('data:{'), e);
    return JSON.parse(e.slice(5)) as {
      index: number;
      token: { text: string };
      generated_text: string | null;
      details: { finish_reason: string; generated_tokens: number; input_length: number } | null;
    };
  });
  assert.deepEqual(Object.keys(parsed[0]!), ['index', 'token', 'generated_text', 'details']);
  assert.deepEqual(
    parsed.map((p) => p.index),
    [1, 2, 3, 4, 5, 6],
  );
  assert.ok(parsed.slice(0, -1).every((p) => p.generated_text === null && p.details === null));
  const last = parsed.at(-1)!;
  assert.equal(last.generated_text, parsed.map((p) => p.token.text).join(''));
  assert.deepEqual(last.details, {
    finish_reason: 'length',
    generated_tokens: 6,
    seed: null,
    input_length: 2,
  });
});

test('validation errors are 422 in TGI shape; other paths follow TGI too', async () => {
  const res = await post('/generate', { parameters: { max_new_tokens: 5 } });
  assert.equal(res.status, 422);
  const body = (await res.json()) as { error: string; error_type: string };
  assert.equal(body.error_type, 'validation');
  assert.match(body.error, /inputs/);
  const tooLong = await post('/generate', { inputs: 'x', parameters: { max_new_tokens: 5000 } });
  assert.equal(tooLong.status, 422);
  assert.equal((await fetch(`${sim.url}/nope`)).status, 404);
});

test('TGI OpenAI-compatible chat serves the one model whatever the body names', async () => {
  const res = await post('/v1/chat/completions', {
    model: 'tgi',
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 3,
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { model: string; usage: { completion_tokens: number } };
  assert.equal(body.model, 'tgi-model');
  assert.equal(body.usage.completion_tokens, 3);
});

test('/metrics: TGI names, counters without _total, no model label, Rust number format', async () => {
  const text = await (await fetch(`${sim.url}/metrics`)).text();
  for (const name of [
    'tgi_queue_size',
    'tgi_batch_current_size',
    'tgi_batch_current_max_tokens',
    'tgi_request_count',
    'tgi_request_success',
  ]) {
    assert.match(text, new RegExp(`^${name} \\d+$`, 'm'), name);
  }
  assert.match(text, /^# TYPE tgi_request_duration histogram$/m);
  assert.match(text, /^tgi_request_duration_bucket\{le="0.00015000000000000001"\} \d+$/m);
  assert.match(text, /^tgi_request_duration_bucket\{le="145.61096060497135"\} \d+$/m);
  assert.match(text, /^tgi_request_failure\{err="validation"\} 2$/m);
  assert.doesNotMatch(text, /_total[ {]|model_name| \d+\.0$/m);
  assert.match(text, /\n\n# HELP/, 'a blank line between families');
  const count = Number(/^tgi_request_count (\d+)$/m.exec(text)?.[1]);
  const success = Number(/^tgi_request_success (\d+)$/m.exec(text)?.[1]);
  assert.ok(count >= success + 2 && success >= 3, `${count} ${success}`);
});

test('faults: error-500 in TGI shape, reset-mid-stream cuts the stream after its first event', async () => {
  sim.setFault({ mode: 'error-500' });
  const failed = await post('/generate', { inputs: 'x', parameters: { max_new_tokens: 2 } });
  assert.equal(failed.status, 500);
  assert.equal(((await failed.json()) as { error_type: string }).error_type, 'generation');
  sim.setFault({ mode: 'reset-mid-stream' });
  const res = await post('/generate_stream', { inputs: 'x', parameters: { max_new_tokens: 20 } });
  assert.equal(res.status, 200);
  let received = '';
  await assert.rejects(async () => {
    for await (const chunk of res.body!) received += Buffer.from(chunk).toString();
  });
  assert.ok(received.startsWith('data:{"index":1,'), received);
  sim.setFault({ mode: 'reset-before-headers' });
  await assert.rejects(post('/generate', { inputs: 'x' }));
  assert.equal((await post('/generate', { inputs: 'x', parameters: { max_new_tokens: 1 } })).status, 200);
});
