import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DecisionOutcome, DecisionRecord } from '../core/decision-record.ts';
import { modelState } from '../core/testing/model-state.ts';
import { createStateStore } from '../signal/state/state-store.ts';
import { createTokenCounter, type DecisionRecorder } from './decision-recorder.ts';
import { createEndpointSelector } from './endpoint-selector.ts';

function recorder(watching: boolean) {
  const decisions: DecisionRecord[] = [];
  const outcomes: Array<{ id: string; outcome: DecisionOutcome }> = [];
  const r: DecisionRecorder & { on: boolean } = {
    worker: 0,
    on: watching,
    watching: () => r.on,
    decided: (d) => decisions.push(d),
    outcome: (id, outcome) => outcomes.push({ id, outcome }),
  };
  return { r, decisions, outcomes };
}

test('SSE answers count token events (chunk boundaries, role, finish and [DONE] excluded)', () => {
  const event = (content: string, extra = '') =>
    `data: {"choices":[{"delta":{${extra}"content":"${content}"},"finish_reason":null}]}\n\n`;
  const text =
    event('', '"role":"assistant",') +
    event('Hel') +
    event('lo') +
    event('!') +
    event('') +
    'data: [DONE]\n\n';
  const counter = createTokenCounter();
  // Cut everywhere, including inside `data:` and `"content":""`.
  for (let i = 0; i < text.length; i += 7) counter.add(Buffer.from(text.slice(i, i + 7)));
  assert.equal(counter.tokens(), 3);
});

test('JSON answers report their usage; anything else reports no count', () => {
  const openai = createTokenCounter();
  openai.add(Buffer.from('{"usage":{"prompt_tokens":3,'));
  openai.add(Buffer.from('"completion_tokens":12}}'));
  assert.equal(openai.tokens(), 12);
  const tgi = createTokenCounter();
  tgi.add(Buffer.from('{"generated_text":"x","details":{"generated_tokens":4}}'));
  assert.equal(tgi.tokens(), 4);
  const kserve = createTokenCounter();
  kserve.add(Buffer.from('{"outputs":[]}'));
  assert.equal(kserve.tokens(), undefined);
});

test('the selector explains and records a pick only while someone watches, outcome once at the end', () => {
  const store = createStateStore();
  store.upsert(modelState('a', { queueDepth: 3 }));
  store.upsert(modelState('b', { queueDepth: 0 }));
  const { r, decisions, outcomes } = recorder(false);
  const selector = createEndpointSelector(store, { decisions: r });

  selector.pick('m', undefined, 'openai', { requestId: 'unwatched' }).lease.end(true, 200);
  assert.equal(decisions.length, 0);
  assert.equal(outcomes.length, 0);

  r.on = true;
  const route = selector.pick('m', undefined, 'openai', { requestId: 'r1', promptTokens: 10, maxTokens: 5 });
  assert.equal(decisions.length, 1);
  const d = decisions[0]!;
  assert.equal(d.requestId, 'r1');
  assert.equal(d.kind, 'primary');
  assert.equal(d.chosen, route.endpointId);
  assert.equal(d.candidates, 2);
  assert.ok(d.weights['work-left']! > 0, JSON.stringify(d.weights));
  assert.equal(d.top[0]!.endpointId, d.chosen);
  assert.ok(Object.keys(d.top[0]!.scores).includes('work-left'));
  assert.equal(d.admission?.admitted, true);
  route.lease.firstToken();
  route.lease.relayed?.(Buffer.from('data: {"choices":[{"delta":{"content":"x"}}]}\n\n'));
  route.lease.end(true, 200);
  route.lease.end(true, 200);
  assert.equal(outcomes.length, 1);
  assert.equal(outcomes[0]!.id, d.id);
  assert.equal(outcomes[0]!.outcome.status, 200);
  assert.equal(outcomes[0]!.outcome.outputTokens, 1);
  assert.equal(typeof outcomes[0]!.outcome.ttftMs, 'number');

  // A retry (something excluded) and a hedge (an acceptance check) are marked as such.
  selector.pick('m', new Set(['x']), 'openai', { requestId: 'r1' }).lease.end(false, 502);
  assert.throws(() => selector.pick('m', new Set([d.chosen!]), 'openai', { requestId: 'r1' }, () => false));
  assert.deepEqual(
    decisions.map((x) => [x.kind, x.error]),
    [
      ['primary', undefined],
      ['retry', undefined],
      ['hedge', 'unavailable'],
    ],
  );
  assert.deepEqual(outcomes[1]!.outcome, { ok: false, e2eMs: outcomes[1]!.outcome.e2eMs, status: 502 });
});
