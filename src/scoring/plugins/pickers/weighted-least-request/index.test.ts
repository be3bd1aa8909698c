import { test } from 'node:test';
import assert from 'node:assert/strict';
import { modelState } from '../../../../core/testing/model-state.ts';
import { createScoringEngine } from '../../../engine.ts';
import type { ProfileSpec } from '../../../profiles.ts';

function fleet(gpus: Record<string, string>, profile?: ProfileSpec) {
  let r = 0.123;
  const engine = createScoringEngine({
    random: () => (r = (r * 9301 + 0.49297) % 1),
    now: () => 0,
    ...(profile ? { profiles: { w: profile } } : {}),
  });
  for (const [id, gpuType] of Object.entries(gpus)) engine.fleet.upsert(modelState(id, { gpuType }));
  const name = profile ? 'w' : 'weighted-least-request';
  const counts = (n: number, route = false) => {
    const c: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const req = { model: 'm', promptTokens: 100 };
      const d = engine.decide(req, name, false);
      if (route) engine.routed(d.target, req);
      c[d.target.endpointId] = (c[d.target.endpointId] ?? 0) + 1;
    }
    return c;
  };
  return { engine, counts };
}

test('idle mixed fleet: H100s get 3 requests for every A100 request', () => {
  const { counts } = fleet({ h1: 'H100', h2: 'H100', a1: 'A100', a2: 'A100' });
  const c = counts(800);
  assert.deepEqual(c, { h1: 300, h2: 300, a1: 100, a2: 100 });
});

test('active requests lower the effective weight: a busy H100 yields to an idle A100', () => {
  const { engine, counts } = fleet({ h: 'H100', a: 'A100' });
  engine.fleet.get('h', 'm')!.inFlight = 11; // 3 / (11 + 1) = 0.25 against 1 / (0 + 1)
  const c = counts(100);
  assert.ok(c.a! > 3 * c.h!, JSON.stringify(c));
  // Routed and never finished: each pick re-enters with weight / (active + 1), so as load builds
  // the H100's share falls from 3:1 towards √3:1 (Envoy's EDF with active_request_bias 1).
  const { engine: e2, counts: counts2 } = fleet({ h: 'H100', a: 'A100' });
  counts2(400, true);
  const h = e2.fleet.get('h', 'm')!.inFlight;
  const a = e2.fleet.get('a', 'm')!.inFlight;
  assert.ok(h / a > 1.5 && h / a < 2.2, `${h} : ${a}`);
});

test('equal weights: two random choices, the fewer active requests wins (P2C)', () => {
  const { engine, counts } = fleet({ a: 'H100', b: 'H100', c: 'H100', d: 'H100' });
  engine.fleet.get('a', 'm')!.inFlight = 50;
  const c = counts(400);
  // `a` wins only when both draws land on it (1/16 of the time).
  assert.ok((c.a ?? 0) < 400 / 8, JSON.stringify(c));
  assert.ok(c.b! > 80 && c.c! > 80 && c.d! > 80, JSON.stringify(c));
});

test('weights come from plugin params; an unknown GPU weighs 1; the GPU name counts when there is no label', () => {
  const { engine, counts } = fleet(
    { big: 'NVIDIA H200 141GB', small: 'L4', odd: 'TPU' },
    { picker: { type: 'weighted-least-request', params: { weights: { H200: 4, L4: 2 } } } },
  );
  void engine;
  assert.deepEqual(counts(700), { big: 400, small: 200, odd: 100 });
  const named = fleet({ x: '', y: '' });
  named.engine.fleet.setGpu('x', {
    uuid: 'GPU-x',
    index: 0,
    name: 'NVIDIA H100 80GB HBM3',
    node: 'n1',
    healthy: true,
    updatedAt: 0,
    source: 'sim',
  });
  assert.deepEqual(named.counts(400), { x: 300, y: 100 });
});
