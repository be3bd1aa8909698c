import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../core/config.ts';
import { modelState } from '../core/testing/model-state.ts';
import { admit } from '../scoring/admission.ts';
import { createScoringEngine } from '../scoring/engine.ts';
import { createHedging } from './hedge.ts';
import type { Route } from './route-decider.ts';
import { NO_ROUTING_RULES, type RoutingRules, type SloRule } from './routing-rules.ts';
import { compileSloRules, createSloRouting } from './slo-rules.ts';

const rules = (slo: SloRule[], tenants: RoutingRules['tenants'] = {}): RoutingRules => ({
  ...NO_ROUTING_RULES,
  slo,
  tenants,
});

test('a request’s class: its header, else its tenant’s default, else latency', () => {
  const slo = compileSloRules(
    rules([], { batch: { defaultSloClass: 'throughput' }, chat: { defaultSloClass: 'latency' }, bare: {} }),
  );
  assert.equal(slo.classOf(undefined, undefined), 'latency');
  assert.equal(slo.classOf(undefined, 'batch'), 'throughput');
  assert.equal(slo.classOf(undefined, 'chat'), 'latency');
  assert.equal(slo.classOf(undefined, 'bare'), 'latency');
  assert.equal(slo.classOf(undefined, 'nobody'), 'latency');
  assert.equal(slo.classOf('latency', 'batch'), 'latency', 'the header beats the tenant default');
  assert.equal(slo.classOf('throughput', 'chat'), 'throughput');
});

test('the rule naming the model beats one for every model; equals go to the first policy by name', () => {
  const slo = compileSloRules(
    rules([
      { policy: 'z-general', models: [], class: 'latency', admission: { maxWaitMs: 3 } },
      { policy: 'b-llama', models: ['llama'], class: 'latency', admission: { maxWaitMs: 2 } },
      { policy: 'a-general', models: [], class: 'latency', admission: { maxWaitMs: 1 } },
      { policy: 'c-llama', models: ['llama', 'qwen'], class: 'latency', admission: { maxWaitMs: 4 } },
      { policy: 'B-upper', models: [], class: 'throughput', e2eMs: 9 },
      { policy: 'a-lower', models: [], class: 'throughput', e2eMs: 8 },
    ]),
  );
  assert.equal(slo.settings('latency', 'llama').policy, 'b-llama');
  assert.equal(slo.settings('latency', 'llama').maxWaitMs, 2);
  assert.equal(slo.settings('latency', 'qwen').policy, 'c-llama');
  assert.equal(slo.settings('latency', 'other').policy, 'a-general');
  // Code-unit order: upper case before lower case, whatever the locale.
  assert.equal(slo.settings('throughput', 'llama').policy, 'B-upper');
  assert.equal(slo.settings('throughput', 'llama').e2eMs, 9);
  // Same answer whatever order the rules came in.
  const reversed = compileSloRules(
    rules(
      [
        { policy: 'b', models: [], class: 'latency', e2eMs: 2 },
        { policy: 'a', models: [], class: 'latency', e2eMs: 1 },
      ].reverse() as SloRule[],
    ),
  );
  assert.equal(reversed.settings('latency', 'm').policy, 'a');
});

test('no rule: the class alone, nothing overridden; one settings object per rule, reused', () => {
  const slo = compileSloRules(
    rules([{ policy: 'p', models: ['a', 'b'], class: 'throughput', weights: { queue: 0 } }]),
  );
  assert.deepEqual(slo.settings('latency', 'a'), { sloClass: 'latency' });
  assert.equal(slo.settings('throughput', 'a'), slo.settings('throughput', 'b'));
  assert.equal(slo.settings('throughput', 'a').weights, slo.settings('throughput', 'b').weights);
  assert.deepEqual(slo.settings('throughput', 'c'), { sloClass: 'throughput' });
});

test('createSloRouting follows the rules it is given', () => {
  const routing = createSloRouting();
  assert.equal(routing.settings('latency', 'm').policy, undefined);
  routing.use(
    rules([{ policy: 'p', models: [], class: 'latency', e2eMs: 5 }], {
      t: { defaultSloClass: 'throughput' },
    }),
  );
  assert.equal(routing.settings('latency', 'm').e2eMs, 5);
  assert.equal(routing.classOf(undefined, 't'), 'throughput');
  routing.use(NO_ROUTING_RULES);
  assert.equal(routing.settings('latency', 'm').e2eMs, undefined);
});

test('hedging: the rule’s knobs over the class’s config, knob by knob; ttftMs caps the budget', () => {
  const config = parseConfig({
    apiVersion: 'infermesh/v1',
    router: {
      hedging: {
        enabled: false,
        budget: 'fixed',
        fixedBudgetMs: 4000,
        sloClasses: { latency: { enabled: true, fixedBudgetMs: 3000 } },
      },
    },
  }).router.hedging;
  const slo = compileSloRules(
    rules([
      { policy: 'cap', models: ['m'], class: 'latency', ttftMs: 200 },
      { policy: 'on', models: [], class: 'throughput', hedging: { enabled: true } },
      {
        policy: 'p95',
        models: ['p'],
        class: 'latency',
        ttftMs: 300,
        hedging: { budget: 'p95', minBudgetMs: 900 },
      },
    ]),
    config,
  );
  const hedging = createHedging(config)!;
  const route = { endpointId: 'e', predictedTtftMs: 100, ttftP95Ms: 400, e2eMs: 2000 } as Route;
  const budget = (sloClass: 'latency' | 'throughput', model: string) =>
    hedging.budgetMs(route, { model, stream: true, sloClass, policy: slo.settings(sloClass, model).hedge });
  assert.equal(budget('latency', 'other'), 3000, 'no rule: config');
  assert.equal(budget('latency', 'm'), 200, 'fixed budget capped by ttftMs');
  assert.equal(budget('throughput', 'x'), 4000, 'turned on by a policy; other knobs from config');
  // p95 × 2 = 800, raised to the policy's min 900, capped by ttftMs 300.
  assert.equal(budget('latency', 'p'), 300);
  assert.equal(slo.settings('latency', 'p').hedge?.enabled, true, 'enabled comes from the class config');
});

test('admission: a rule’s maxWaitMs replaces the class limit; the timeout still lowers it', () => {
  assert.equal(admit({ predictedWaitMs: 50, sloClass: 'latency', maxWaitMs: 10 }).admitted, false);
  assert.equal(admit({ predictedWaitMs: 50, sloClass: 'latency' }).admitted, true);
  assert.equal(admit({ predictedWaitMs: 50, maxWaitMs: 100, timeoutMs: 20 }).limitMs, 20);
});

test('weights: a rule’s weights go over the profile’s class weights and change the pick', () => {
  const engine = createScoringEngine({
    profile: 'p',
    profiles: {
      p: {
        scorers: [
          { type: 'kv-pressure', weight: 1, params: { source: 'scraped' } },
          { type: 'queue', weight: 3 },
        ],
        sloClasses: { throughput: { queue: 2 } },
      },
    },
  });
  engine.fleet.upsert(modelState('a', { kvCacheUsage: 0.9, queueDepth: 0 }));
  engine.fleet.upsert(modelState('b', { kvCacheUsage: 0, queueDepth: 1 }));
  const pick = (req: object) => engine.decide({ model: 'm', ...req }, undefined, false).target.endpointId;
  assert.equal(pick({ sloClass: 'throughput' }), 'a');
  const weights = { queue: 0 };
  assert.equal(pick({ sloClass: 'throughput', weights }), 'b');
  assert.equal(pick({ sloClass: 'throughput', weights }), 'b', 'the compiled vector is reused');
  // Unknown scorer names are ignored; the rest of the class's weights stay.
  assert.equal(pick({ sloClass: 'throughput', weights: { nope: 5 } }), 'a');
});
