// The official OpenAI SDK as a real client against the router, chat and completions, stream and not.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startLocalMesh, type LocalMesh } from './helpers/local-mesh.ts';

let mesh: LocalMesh;
let client: OpenAI;
before(async () => {
  mesh = await startLocalMesh({ sims: 2 });
  client = new OpenAI({ baseURL: `${mesh.routerUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(() => mesh.close());

test('models.list shows the simulated model', async () => {
  const models = await client.models.list();
  assert.deepEqual(
    models.data.map((m) => m.id),
    ['sim-llama-3-8b'],
  );
});

test('chat completion, not streamed', async () => {
  const res = await client.chat.completions.create({
    model: 'sim-llama-3-8b',
    messages: [{ role: 'user', content: 'Say hello' }],
    max_tokens: 8,
  });
  assert.equal(res.object, 'chat.completion');
  assert.equal(res.choices[0]?.message.role, 'assistant');
  assert.ok((res.choices[0]?.message.content ?? '').length > 0);
  assert.equal(res.usage?.completion_tokens, 8);
  assert.ok((res.usage?.prompt_tokens ?? 0) > 0);
});

test('chat completion, streamed with usage', async () => {
  const stream = await client.chat.completions.create({
    model: 'sim-llama-3-8b',
    messages: [{ role: 'user', content: 'Count to five' }],
    max_tokens: 6,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage: OpenAI.CompletionUsage | undefined;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(chunks >= 6, `chunks: ${chunks}`);
  assert.ok(text.length > 0);
  assert.equal(usage?.completion_tokens, 6);
});

test('completion, not streamed and streamed', async () => {
  const res = await client.completions.create({
    model: 'sim-llama-3-8b',
    prompt: 'Once upon a time',
    max_tokens: 5,
  });
  assert.equal(res.object, 'text_completion');
  assert.equal(res.usage?.completion_tokens, 5);

  const stream = await client.completions.create({
    model: 'sim-llama-3-8b',
    prompt: 'Once upon a time',
    max_tokens: 5,
    stream: true,
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
  assert.ok(text.length > 0);
});

test('the router answers with a request id and names the endpoint it chose', async () => {
  const { response } = await client.chat.completions
    .create({ model: 'sim-llama-3-8b', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 })
    .withResponse();
  assert.match(response.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  assert.match(response.headers.get('x-infermesh-endpoint') ?? '', /^test-node\/sim-[01]$/);
});

test('an unknown model is a 404 NotFoundError for the SDK', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
    (err: unknown) => err instanceof OpenAI.NotFoundError && err.code === 'model_not_found',
  );
});
