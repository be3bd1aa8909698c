import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTrace } from './traces.ts';

// The published trace, beside the checkout (where `npm run bench:routing` reads it).
const MOONCAKE = new URL('../../../shared/traces/mooncake_fast25/conversation_trace.jsonl', import.meta.url)
  .pathname;

const spreadTitle =
  "Mooncake's 3 s buckets are spread over each bucket in file order; --bursts keeps the instants";
test(spreadTitle, { skip: existsSync(MOONCAKE) ? false : `no ${MOONCAKE}` }, () => {
  const recorded = loadTrace(MOONCAKE, { spreadBuckets: false });
  const spread = loadTrace(MOONCAKE);
  assert.equal(spread.requests.length, recorded.requests.length);
  const distinct = (t: typeof recorded) => new Set(t.requests.map((r) => r.arrivalMs)).size;
  assert.ok(distinct(recorded) < recorded.requests.length / 5, 'the recorded trace comes in buckets');
  assert.equal(distinct(spread), spread.requests.length, 'no two spread arrivals coincide');
  for (let i = 0; i < spread.requests.length; i++) {
    const r = recorded.requests[i]!;
    const s = spread.requests[i]!;
    assert.equal(s.inputTokens, r.inputTokens); // file order and content kept
    const next = recorded.requests.find((x, j) => j > i && x.arrivalMs > r.arrivalMs)?.arrivalMs;
    assert.ok(s.arrivalMs >= r.arrivalMs && (next === undefined || s.arrivalMs < next), `request ${i}`);
    if (i > 0) assert.ok(s.arrivalMs > spread.requests[i - 1]!.arrivalMs, `order at ${i}`);
  }
  // The same arrivals on every load (a fixed seed): benchmark runs replay one trace.
  assert.deepEqual(loadTrace(MOONCAKE).requests, spread.requests);
});

test('each bucket spreads over the gap to the next timestamp; the last over the median gap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trace-'));
  const file = join(dir, 'small.jsonl');
  const line = (t: number) =>
    JSON.stringify({ timestamp: t, input_length: 10, output_length: 5, hash_ids: [1] });
  writeFileSync(file, [0, 3000, 3000, 6000, 9000, 9000].map(line).join('\n'));
  const ms = loadTrace(file).requests.map((r) => r.arrivalMs);
  assert.ok(ms[0]! >= 0 && ms[0]! < 3000);
  assert.ok(ms[1]! >= 3000 && ms[1]! < 4500 && ms[2]! >= 4500 && ms[2]! < 6000, String(ms));
  assert.ok(ms[3]! >= 6000 && ms[3]! < 9000);
  assert.ok(ms[4]! >= 9000 && ms[4]! < 10500 && ms[5]! >= 10500 && ms[5]! < 12000, String(ms));
});
