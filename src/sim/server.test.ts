import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { spawnSync } from 'node:child_process';
import OpenAI from 'openai';
import { createSimServer, type SimServer } from './server.ts';

let sim: SimServer;
let client: OpenAI;
const model = 'sim-llama-3-8b';

before(async () => {
  sim = await createSimServer({ port: 0, model, profile: 'h100', timeScale: 1000, seed: 3 });
  client = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'x', maxRetries: 0 });
});
after(() => sim.close());

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface ErrBody {
  error: { message: string; type: string; param: string | null; code: number };
}
interface ModelsBody {
  object: string;
  data: {
    id: string;
    root: string;
    parent: null;
    owned_by: string;
    max_model_len: number;
    permission: { object: string }[];
  }[];
}

const post = (path: string, body: unknown) =>
  fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

test('chat completion through the official SDK', async () => {
  const res = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'hello there' }],
    max_tokens: 7,
  });
  assert.match(res.id, /^chatcmpl-[0-9a-f]{32}$/);
  assert.equal(res.object, 'chat.completion');
  assert.equal(res.model, model);
  assert.equal(res.choices[0]?.finish_reason, 'length');
  assert.equal(res.choices[0]?.message.role, 'assistant');
  assert.equal(res.choices[0]?.message.content?.split(' ').length, 7);
  // '<|user|>\nhello there\n<|assistant|>\n' is 35 bytes: 9 tokens.
  assert.deepEqual(res.usage, {
    prompt_tokens: 9,
    completion_tokens: 7,
    total_tokens: 16,
    prompt_tokens_details: null,
  });
});

test('chat streaming through the SDK: role first, usage chunk last with no choices', async () => {
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'stream please' }],
    max_tokens: 5,
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant');
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
  assert.equal(text.split(' ').length, 5);
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage?.completion_tokens, 5);
  assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'length');
  const plain = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'stream please' }],
    max_tokens: 5,
  });
  assert.equal(plain.choices[0]?.message.content, text, 'deterministic: stream and non-stream agree');
});

test('completions, stream and not, through the SDK', async () => {
  const res = await client.completions.create({ model, prompt: 'The quick brown fox', max_tokens: 4 });
  assert.match(res.id, /^cmpl-/);
  assert.equal(res.object, 'text_completion');
  assert.equal(res.usage?.prompt_tokens, 5);
  assert.equal(res.usage?.completion_tokens, 4);
  const stream = await client.completions.create({
    model,
    prompt: 'The quick brown fox',
    max_tokens: 4,
    stream: true,
  });
  let text = '';
  let finish: string | null = null;
  for await (const c of stream) {
    text += c.choices[0]?.text ?? '';
    finish = c.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(text, res.choices[0]?.text);
  assert.equal(finish, 'length');
});

test('raw SSE: data events with a space, blank-line separated, ending in data: [DONE]', async () => {
  const res = await post('/v1/chat/completions', {
    model,
    messages: [{ role: 'user', content: 'x' }],
    max_tokens: 3,
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const body = await res.text();
  assert.ok(body.endsWith('data: [DONE]\n\n'));
  const events = body.split('\n\n').filter(Boolean);
  assert.ok(events.every((e) => e.startsWith('data: ')));
  const usage = JSON.parse(events.at(-2)!.slice(6)) as {
    choices: unknown[];
    usage: { completion_tokens: number };
  };
  assert.deepEqual(usage.choices, []);
  assert.equal(usage.usage.completion_tokens, 3);
});

test('models, health, load, version', async () => {
  const models = (await (await fetch(`${sim.url}/v1/models`)).json()) as ModelsBody;
  assert.equal(models.object, 'list');
  const m = models.data[0]!;
  assert.equal(m.id, model);
  assert.equal(m.root, model);
  assert.equal(m.parent, null);
  assert.equal(m.owned_by, 'vllm');
  assert.equal(m.max_model_len, 8192);
  assert.equal(m.permission[0]?.object, 'model_permission');
  const listed = await client.models.list();
  assert.equal(listed.data[0]?.id, model);
  const health = await fetch(`${sim.url}/health`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), '');
  assert.deepEqual(await (await fetch(`${sim.url}/load`)).json(), { server_load: 0 });
  assert.match(
    ((await (await fetch(`${sim.url}/version`)).json()) as { version: string }).version,
    /^\d+\.\d+\.\d+/,
  );
  assert.equal((await fetch(`${sim.url}/nope`)).status, 404);
});

test('sim_output_tokens sets the answer length under a client cap: stop at it, length at the cap, ignore_eos runs on', async () => {
  const answer = async (extra: Record<string, unknown>) =>
    (await (await post('/v1/completions', { model, prompt: 'a b c', max_tokens: 12, ...extra })).json()) as {
      choices: { finish_reason: string }[];
      usage: { completion_tokens: number };
    };
  const stopped = await answer({ sim_output_tokens: 5 });
  assert.equal(stopped.usage.completion_tokens, 5);
  assert.equal(stopped.choices[0]?.finish_reason, 'stop');
  const capped = await answer({ sim_output_tokens: 40 });
  assert.equal(capped.usage.completion_tokens, 12);
  assert.equal(capped.choices[0]?.finish_reason, 'length');
  const forced = await answer({ sim_output_tokens: 5, ignore_eos: true });
  assert.equal(forced.usage.completion_tokens, 12);
  assert.equal((await post('/v1/completions', { model, prompt: 'a', sim_output_tokens: 0 })).status, 400);
});

test('errors have the vLLM shape: 404 unknown model, 400 malformed JSON and bad params', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-x', messages: [{ role: 'user', content: 'a' }] }),
    (err: { status?: number; message: string }) => {
      assert.equal(err.status, 404);
      assert.match(err.message, /The model `gpt-x` does not exist\./);
      return true;
    },
  );
  const nf = (await (await post('/v1/completions', { model: 'gpt-x', prompt: 'a' })).json()) as ErrBody;
  assert.deepEqual(nf, {
    error: { message: 'The model `gpt-x` does not exist.', type: 'NotFoundError', param: 'model', code: 404 },
  });
  const malformed = await fetch(`${sim.url}/v1/completions`, { method: 'POST', body: '{oops' });
  assert.equal(malformed.status, 400);
  assert.equal(((await malformed.json()) as ErrBody).error.type, 'BadRequestError');
  for (const body of [
    { prompt: 'a', max_tokens: -1 },
    { prompt: 'a', temperature: 9 },
    { prompt: 'a', stream_options: { include_usage: true } },
    { prompt: 'a', max_tokens: 9000 },
    {},
  ]) {
    const res = await post('/v1/completions', body);
    assert.equal(res.status, 400, JSON.stringify(body));
    const err = ((await res.json()) as ErrBody).error;
    assert.equal(err.code, 400);
    assert.equal(err.type, 'BadRequestError');
  }
  assert.equal((await post('/v1/chat/completions', { messages: [] })).status, 400);
});

test('/metrics carries the vLLM V1 families and passes promtool', async () => {
  const res = await fetch(`${sim.url}/metrics`);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const text = await res.text();
  const l = `engine="0",model_name="${model}"`;
  for (const name of [
    'vllm:num_requests_running',
    'vllm:num_requests_waiting',
    'vllm:kv_cache_usage_perc',
    'vllm:prefix_cache_queries_total',
    'vllm:prefix_cache_queries_created',
    'vllm:prefix_cache_hits_total',
    'vllm:prefix_cache_hits_created',
    'vllm:prompt_tokens_total',
    'vllm:generation_tokens_total',
    'vllm:num_preemptions_total',
    'vllm:time_to_first_token_seconds',
    'vllm:e2e_request_latency_seconds',
    'vllm:inter_token_latency_seconds',
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
  assert.match(
    text,
    new RegExp(
      `^vllm:request_success_total\\{engine="0",finished_reason="length",model_name="${model}"\\} [1-9]\\d*\\.0$`,
      'm',
    ),
  );
  assert.match(
    text,
    new RegExp(
      `^vllm:time_to_first_token_seconds_bucket\\{engine="0",le="0\\.001",model_name="${model}"\\} `,
      'm',
    ),
  );
  assert.match(
    text,
    new RegExp(
      `^vllm:time_to_first_token_seconds_bucket\\{engine="0",le="2560\\.0",model_name="${model}"\\} `,
      'm',
    ),
  );
  assert.match(
    text,
    new RegExp(
      `^vllm:e2e_request_latency_seconds_bucket\\{engine="0",le="\\+Inf",model_name="${model}"\\} `,
      'm',
    ),
  );
  assert.match(text, new RegExp(`^vllm:num_requests_running\\{${l}\\} 0\\.0$`, 'm'));
  assert.match(text, /^vllm:prompt_tokens_created\{[^}]+\} 1\.\d+e\+09$/m);
  const info = text.split('\n').find((x) => x.startsWith('vllm:cache_config_info{')) ?? '';
  assert.match(info, /block_size="16"/);
  assert.match(info, new RegExp(`num_gpu_blocks="${sim.engine.numBlocks}"`));
  assert.match(info, /enable_prefix_caching="True"/);
  assert.match(info, /engine="0"/);
  assert.doesNotMatch(info, /model_name/);
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (promtool.error) return; // promtool not installed here
  const out = `${promtool.stdout}${promtool.stderr}`;
  assert.doesNotMatch(out, /error while linting|parsing error/, out);
  // Only lint remarks about the ':' that vLLM's names carry, nothing else.
  const remarks = out.split('\n').filter(Boolean);
  assert.ok(
    remarks.every((r) => r.includes("should not contain ':'")),
    out,
  );
  assert.ok(promtool.status === 0 || promtool.status === 3, out);
});

test('a client disconnect mid-stream aborts the engine request at once', async () => {
  // A slow simulator of its own, so the stream is surely still running when the client leaves.
  const slow = await createSimServer({ port: 0, model, timeScale: 10 });
  try {
    const before = slow.engine.stats();
    await new Promise<void>((resolve, reject) => {
      const req = request(`${slow.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      req.on('response', (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
      req.end(
        JSON.stringify({
          model,
          messages: [{ role: 'user', content: 'long' }],
          max_tokens: 5000,
          stream: true,
        }),
      );
    });
    await waitFor(() => slow.engine.stats().cancelled === before.cancelled + 1);
    await waitFor(() => slow.engine.stats().running === 0);
    assert.equal(slow.engine.stats().completed, before.completed);
    assert.equal(slow.engine.stats().freeBlocks, slow.engine.numBlocks);
  } finally {
    await slow.close();
  }
});
