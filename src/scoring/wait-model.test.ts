import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelState } from '../core/testing/model-state.ts';
import { createScoringEngine } from './engine.ts';

test('a reported queue drains by the time since its report arrived, and a new report restores it', () => {
  let t = 10_000;
  const engine = createScoringEngine({ now: () => t, random: () => 0 });
  const state = modelState('e1', { gpuType: 'H100', queueDepth: 4 });
  engine.fleet.upsert(state);
  const wait = () => engine.decide({ model: 'm', promptTokens: 16 }).predictedWaitMs;
  const fresh = wait();
  // 4 waiting requests of ~1,000 tokens at the H100 prior rate: on the order of a hundred ms.
  assert.ok(fresh > 50 && fresh < 1000, `fresh ${fresh}`);
  t += 40;
  assert.ok(Math.abs(wait() - (fresh - 40)) < 1e-6, 'served for 40 ms since the report');
  t += 10_000;
  assert.ok(wait() < 1, 'a report seconds old says nothing is still waiting');
  engine.fleet.upsert({ ...state, updatedAt: t });
  assert.ok(Math.abs(wait() - fresh) < 1e-6, 'a new report counts whole again');
});

test('streamed requests still without a first token after the predicted drain keep the endpoint busy, as long again as it is behind past its TTFT p95', () => {
  let t = 10_000;
  const engine = createScoringEngine({ now: () => t, random: () => 0 });
  engine.fleet.upsert(modelState('e1', { gpuType: 'H100', updatedAt: t }));
  const send = (stream: boolean) => {
    const req = { model: 'm', promptTokens: 4000, stream };
    const d = engine.decide(req, undefined, false);
    return { view: d.target, ticket: engine.routed(d.target, req, d.predictedWaitMs) };
  };
  const { view, ticket } = send(true);
  const predictedMs = ticket.predictedDoneAt - ticket.sentAt;
  t = ticket.predictedDoneAt + 3 * predictedMs; // no first token yet: 3 prefills' time behind
  const behind = engine.predictWaitMs(view);
  assert.ok(
    Math.abs(behind - 3 * predictedMs) < predictedMs / 2,
    `wait ${behind} ms, ${3 * predictedMs} ms behind`,
  );
  engine.firstToken(ticket, t - ticket.sentAt);
  assert.ok(engine.predictWaitMs(view) < predictedMs / 2, 'caught up once the first token arrived');

  // Late by less than the endpoint's own TTFT p95 (now known from that first token): ordinary
  // prediction error, not a slowdown.
  const late = send(true);
  const p95 = view.observedP95Ms;
  assert.ok(p95 > 0, `p95 ${p95}`);
  t = late.ticket.predictedDoneAt + p95 / 2;
  assert.ok(engine.predictWaitMs(late.view) < predictedMs / 2, 'within the p95: not behind');
  engine.firstToken(late.ticket, t - late.ticket.sentAt);

  // A whole answer reports no first token: past its predicted prefill it is decoding, not behind.
  const whole = send(false);
  t = whole.ticket.predictedDoneAt + 3 * predictedMs;
  assert.ok(engine.predictWaitMs(whole.view) < predictedMs / 2);
});
