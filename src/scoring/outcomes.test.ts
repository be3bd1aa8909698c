import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelState } from '../core/testing/model-state.ts';
import { createScoringEngine } from './engine.ts';

/** An engine over one H100 endpoint on a hand-driven clock, and one request routed to it. */
function oneRequest() {
  let t = 10_000;
  const engine = createScoringEngine({ now: () => t, random: () => 0 });
  engine.fleet.upsert(modelState('e1', { gpuType: 'H100', updatedAt: t }));
  const req = { model: 'm', promptTokens: 4000 };
  const d = engine.decide(req, undefined, false);
  const ticket = engine.routed(d.target, req, d.predictedWaitMs);
  // The view's rate cell, filled by reading a prediction through the engine's context.
  const rate = () => {
    engine.predictWaitMs(d.target);
    return d.target.rateCell!.value;
  };
  return { engine, ticket, rate, advance: (ms: number) => (t += ms) };
}

test('a request withdrawn long past its predicted prefill teaches the endpoint is slow', () => {
  const { engine, ticket, rate, advance } = oneRequest();
  const before = rate();
  const predictedMs = ticket.predictedDoneAt - ticket.sentAt;
  assert.ok(predictedMs > 0, `predicted prefill ${predictedMs} ms`);
  advance(10 * predictedMs);
  engine.withdrawn(ticket, 10 * predictedMs);
  engine.finished(ticket, { ok: false });
  assert.ok(rate() < 0.9 * before, `rate ${rate()} after an overdue withdrawal, ${before} before`);
});

test('a withdrawal before the predicted prefill end, or after the first token, teaches nothing', () => {
  const early = oneRequest();
  const before = early.rate();
  early.advance(1);
  early.engine.withdrawn(early.ticket, 1);
  assert.equal(early.rate(), before);

  const answered = oneRequest();
  const predictedMs = answered.ticket.predictedDoneAt - answered.ticket.sentAt;
  answered.advance(predictedMs);
  answered.engine.firstToken(answered.ticket, predictedMs);
  const learned = answered.rate();
  answered.advance(10 * predictedMs);
  answered.engine.withdrawn(answered.ticket, 11 * predictedMs);
  assert.equal(answered.rate(), learned, 'a request that had its first token is not withdrawn early');
});
