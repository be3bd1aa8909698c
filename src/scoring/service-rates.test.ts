import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServiceRates, type RateSample } from './service-rates.ts';

/** A clean sample: `work` tokens prefilled at `rate` tokens/s after `waitMs` of queueing. */
const sample = (work: number, rate: number, waitMs = 0, confidence = 1): RateSample => ({
  work,
  serviceMs: (work * 1000) / rate,
  ttftMs: waitMs + (work * 1000) / rate,
  confidence,
  runtimeRate: Number.NaN,
});

const works = [300, 800, 1500, 2500, 4000, 6000];

test('converges from a wrong prior (3× too low and 3× too high)', () => {
  const rates = createServiceRates({ H100: 15_000, A100: 40_000 });
  for (let i = 0; i < 300; i++) {
    rates.observe('H100', 'h', sample(works[i % works.length]!, 45_000));
    rates.observe('A100', 'a', sample(works[i % works.length]!, 14_000));
  }
  assert.ok(Math.abs(rates.cell('H100').value / 45_000 - 1) < 0.05, `H100 ${rates.cell('H100').value}`);
  assert.ok(Math.abs(rates.cell('A100').value / 14_000 - 1) < 0.05, `A100 ${rates.cell('A100').value}`);
});

test('does not collapse when queueing grows (measured service time, TTFT only bounds it)', () => {
  const rates = createServiceRates();
  // The drift scenario: TTFT is mostly queue (seconds), the service time is measured apart.
  for (let i = 0; i < 500; i++)
    rates.observe('H100', 'h', sample(works[i % works.length]!, 45_000, 3_000 + i * 10));
  const v = rates.cell('H100').value;
  assert.ok(v > 40_000 && v < 50_000, `H100 ${v}`);
  // The TTFT bound is a lower bound, far below the estimate here: it never pulls it down.
  assert.ok(rates.floor('H100') < v);
});

test('samples without confidence (sent into full batch slots) teach only the TTFT bound', () => {
  const rates = createServiceRates({ A100: 14_000 });
  for (let i = 0; i < 200; i++)
    rates.observe('A100', 'a', { ...sample(2000, 14_000), serviceMs: 5_000, confidence: 0 });
  assert.equal(Math.round(rates.cell('A100').value), 14_000);
});

test('ignores garbage samples and bounds the step of an outlier', () => {
  const rates = createServiceRates({ H100: 40_000 });
  for (let i = 0; i < 200; i++) rates.observe('H100', 'h', sample(works[i % works.length]!, 40_000));
  const before = rates.cell('H100').value;
  for (const bad of [
    { ...sample(2000, 40_000), serviceMs: Number.NaN },
    { ...sample(2000, 40_000), serviceMs: -5 },
    { ...sample(2000, 40_000), ttftMs: Number.NaN },
    { ...sample(2000, 40_000), work: Number.NaN },
    { ...sample(2000, 40_000), work: -1 },
    sample(8, 1), // too little work to say anything
  ])
    rates.observe('H100', 'h', bad);
  assert.ok(Math.abs(rates.cell('H100').value / before - 1) < 1e-9, `${rates.cell('H100').value}`);
  // One 60-second stall (a clipped sample) moves the estimate by a bounded step.
  rates.observe('H100', 'h', { ...sample(2000, 40_000), serviceMs: 60_000, ttftMs: 60_000 });
  assert.ok(rates.cell('H100').value > before * 0.85, `${rates.cell('H100').value}`);
  assert.ok(Number.isFinite(rates.cell('H100').value));
});

test('never below what the runtime reports, nor below Σ work ÷ Σ TTFT', () => {
  const rates = createServiceRates({ A100: 5_000 });
  rates.observe('A100', 'a', { ...sample(2000, 5_000), runtimeRate: 12_000, confidence: 0 });
  assert.ok(rates.cell('A100').value >= 12_000);
  const r2 = createServiceRates({ H100: 1_000 });
  for (let i = 0; i < 20; i++) r2.observe('H100', 'h', { ...sample(4000, 40_000), confidence: 0 });
  // Lifted at most 4× above the fit per update (a fake backend's near-zero TTFTs cannot explode it).
  assert.ok(r2.cell('H100').value <= 4_000 + 1e-6, `${r2.cell('H100').value}`);
  for (let i = 0; i < 20; i++) r2.observe('H100', 'h', sample(4000, 40_000, 100));
  assert.ok(r2.cell('H100').value >= 20_000, `${r2.cell('H100').value}`); // Σ work ÷ Σ TTFT = 4,000 ÷ 0.2 s
});

test('an unlabelled fleet learns each endpoint apart from a neutral prior', () => {
  const rates = createServiceRates();
  const fast = rates.cell(undefined, 'e1');
  const slow = rates.cell(undefined, 'e2');
  assert.equal(fast.value, slow.value);
  for (let i = 0; i < 300; i++) {
    rates.observe(undefined, 'e1', sample(works[i % works.length]!, 45_000));
    rates.observe(undefined, 'e2', sample(works[i % works.length]!, 14_000));
  }
  assert.ok(Math.abs(fast.value / slow.value / (45 / 14) - 1) < 0.1, `${fast.value} / ${slow.value}`);
  // The shared default (read by callers that name no endpoint) pools them.
  const pooled = rates.cell(undefined).value;
  assert.ok(pooled > slow.value && pooled < fast.value);
});
