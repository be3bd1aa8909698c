import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { derive, render } from '../../scripts/derive-profiles.ts';
import { GPU_PROFILES } from './profiles.ts';
import { linearMs, stepTimeMs } from './step-time.ts';

const traces = fileURLToPath(new URL('../../../shared/traces/perf_profiles', import.meta.url));

test(
  'the committed profile table is what scripts/derive-profiles.ts makes from the Vidur files',
  { skip: !existsSync(traces) },
  () => {
    const committed = readFileSync(new URL('./profiles.ts', import.meta.url), 'utf8');
    assert.equal(render(derive(traces)), committed, 'run: npx node scripts/derive-profiles.ts --write');
  },
);

test('the derived A100 8B table matches the numbers in shared/traces/README.md', () => {
  const a100 = GPU_PROFILES.a100;
  for (const [tokens, ms] of [
    [1, 9.8],
    [64, 11.3],
    [128, 13.3],
    [256, 19.6],
    [512, 34.8],
    [1024, 75.6],
    [4096, 275.4],
  ] as const) {
    assert.ok(
      Math.abs(linearMs(a100, tokens) - ms) < 0.5,
      `${tokens} tokens: ${linearMs(a100, tokens)} vs ${ms}`,
    );
  }
});

test('step time: decode is memory-bound, prefill grows with tokens and context, tables extrapolate', () => {
  const h = GPU_PROFILES.h100;
  const decode = (batch: number, ctx: number) =>
    stepTimeMs(
      h,
      Array.from({ length: batch }, () => ({ newTokens: 1, contextTokens: ctx })),
    );
  assert.ok(decode(1, 100) > 6 && decode(1, 100) < 8, String(decode(1, 100)));
  assert.ok(decode(32, 100) < decode(1, 100) * 1.3);
  assert.ok(decode(64, 4000) > decode(64, 100) + 10, 'KV reads grow with context');
  const prefill = (n: number) => stepTimeMs(h, [{ newTokens: n, contextTokens: 0 }]);
  assert.ok(prefill(4096) > 3 * prefill(1024));
  assert.ok(linearMs(h, 8192) > linearMs(h, 4096) * 1.8, 'extrapolated past the last point');
  assert.equal(stepTimeMs(h, []), 0);
  for (const p of Object.values(GPU_PROFILES)) {
    for (let i = 1; i < p.linearMs.length; i++)
      assert.ok(p.linearMs[i]![1] >= p.linearMs[i - 1]![1], `${p.name} is monotone`);
  }
});
