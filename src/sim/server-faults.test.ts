import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import OpenAI from 'openai';
import { createSimServer, type SimServer } from './server.ts';

let sim: SimServer;
const model = 'sim-llama-3-8b';
const chat = { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 20 };

before(async () => {
  sim = await createSimServer({ port: 0, timeScale: 2000 });
});
after(() => sim.close());

const post = (path: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });

test('error-500 answers the next `count` requests with a vLLM 500, then serves again', async () => {
  sim.setFault({ mode: 'error-500', count: 2 });
  for (let i = 0; i < 2; i++) {
    const res = await post('/v1/chat/completions', chat);
    assert.equal(res.status, 500);
    const body = (await res.json()) as { error: { type: string; code: number } };
    assert.equal(body.error.code, 500);
    assert.equal(body.error.type, 'InternalServerError');
  }
  assert.equal((await post('/v1/chat/completions', chat)).status, 200);
});

test('reset-before-headers destroys the socket before any byte', async () => {
  sim.setFault({ mode: 'reset-before-headers' });
  await assert.rejects(post('/v1/completions', { prompt: 'x' }), TypeError);
  assert.equal((await post('/v1/completions', { prompt: 'x', max_tokens: 2 })).status, 200);
});

test('reset-mid-stream cuts a stream after its first token and a non-stream body halfway', async () => {
  sim.setFault({ mode: 'reset-mid-stream', count: 2 });
  const res = await post('/v1/chat/completions', { ...chat, stream: true });
  assert.equal(res.status, 200);
  let received = '';
  await assert.rejects(async () => {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
      received += Buffer.from(chunk).toString();
  });
  assert.match(received, /"role":"assistant"/);
  assert.match(received, /"content":"\w+"/);
  assert.doesNotMatch(received, /\[DONE\]/);
  const plain = await post('/v1/chat/completions', chat);
  assert.equal(plain.status, 200);
  await assert.rejects(plain.text());
  for (let i = 0; i < 300 && sim.engine.stats().running > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(sim.engine.stats().running, 0);
});

test('hang never answers; the client gives up; the fault is used up', async () => {
  sim.setFault({ mode: 'hang', count: 1 });
  await assert.rejects(post('/v1/chat/completions', chat, AbortSignal.timeout(150)), /aborted|timeout/i);
  assert.equal((await post('/v1/chat/completions', chat)).status, 200);
});

test('POST /sim/fault sets and validates faults; GET shows the state', async () => {
  const set = await post('/sim/fault', { mode: 'error-500', count: 3 });
  assert.deepEqual(await set.json(), { mode: 'error-500', count: 3 });
  assert.deepEqual(await (await fetch(`${sim.url}/sim/fault`)).json(), { mode: 'error-500', count: 3 });
  assert.equal((await post('/sim/fault', { mode: 'explode' })).status, 400);
  assert.equal((await post('/sim/fault', { mode: 'hang', count: -1 })).status, 400);
  assert.deepEqual(await (await post('/sim/fault', { mode: 'none' })).json(), { mode: 'none', count: 0 });
  const client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const ok = await client.completions.create({ model, prompt: 'fine', max_tokens: 1 });
  assert.equal(ok.choices.length, 1);
  assert.throws(() => sim.setFault({ mode: 'bogus' as 'none' }), TypeError);
});

test('a slow reader gets merged deltas (backpressure), and the full text arrives intact', async () => {
  const body = { model, prompt: 'tell me everything', max_tokens: 6000, ignore_eos: true };
  const expected = ((await (await post('/v1/completions', body)).json()) as { choices: { text: string }[] })
    .choices[0]!.text;
  // Counted before the request goes out: a fast engine may finish it before its headers arrive here.
  const done = sim.engine.stats().completed + 1;
  const events = await new Promise<string[]>((resolve, reject) => {
    const req = request(`${sim.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    req.on('response', (res) => {
      res.pause();
      const poll = setInterval(() => {
        if (sim.engine.stats().completed < done) return;
        clearInterval(poll);
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve(text.split('\n\n').filter(Boolean)));
        res.resume();
      }, 5);
    });
    req.on('error', reject);
    req.end(JSON.stringify({ ...body, stream: true }));
  });
  assert.equal(events.at(-1), 'data: [DONE]');
  const text = events
    .slice(0, -1)
    .map((e) => (JSON.parse(e.slice(6)) as { choices: { text: string }[] }).choices[0]?.text ?? '')
    .join('');
  assert.equal(text, expected);
  assert.ok(events.length < 6000, `deltas were merged while the reader was paused (${events.length} events)`);
});

test('/sim/gpu-fault sets, shows and clears the readings forced onto the simulated GPU', async () => {
  const set = await post('/sim/gpu-fault', { temperatureC: 97, xidLast: 79 });
  assert.equal(set.status, 200);
  assert.deepEqual(await set.json(), { temperatureC: 97, xidLast: 79 });
  assert.deepEqual(sim.gpuFault(), { temperatureC: 97, xidLast: 79 });
  assert.deepEqual(await (await fetch(`${sim.url}/sim/gpu-fault`)).json(), { temperatureC: 97, xidLast: 79 });
  for (const bad of [{ temperature: 97 }, { xidLast: -1 }, { healthy: 'no' }, [1]]) {
    const res = await post('/sim/gpu-fault', bad);
    assert.equal(res.status, 400, JSON.stringify(bad));
    await res.text();
  }
  assert.deepEqual(sim.gpuFault(), { temperatureC: 97, xidLast: 79 }, 'a refused fault changes nothing');
  assert.equal((await post('/sim/gpu-fault', {})).status, 200);
  assert.deepEqual(sim.gpuFault(), {});
});
