// Admission through a real router: an SLO timeout tighter than the wait predicted at a loaded
// simulator is refused with 429 + Retry-After, and Scoring.Admit on the same engine agrees.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SloClass } from '../src/gen/infermesh/scoring/v1/scoring_pb.js';
import { waitFor } from './helpers/local-mesh.ts';
import { chatBody, MODEL, startScoringMesh, type ScoringMesh } from './helpers/scoring-mesh.ts';

let mesh: ScoringMesh;
before(async () => {
  // Real time: the load must still be queued when the probe arrives.
  mesh = await startScoringMesh({
    sims: 1,
    timeScale: 1,
    scoring: { admission: { enabled: true, maxWaitMs: { latency: 10_000, throughput: 120_000 } } },
  });
});
after(() => mesh.close());

test('a timeout tighter than the predicted wait is 429 with Retry-After; gRPC Admit agrees', async () => {
  // 12 prompts of ~7,000 tokens: ~2 s of prefill the router predicts at the H100 prior, each held
  // for 1,000 output tokens (non-streamed, so nothing reports a first token early).
  const load = new AbortController();
  const pending = Array.from({ length: 12 }, (_, i) =>
    fetch(`${mesh.routerUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: chatBody(`${i} ${'lorem ipsum '.repeat(2330)}`, 1000),
      signal: load.signal,
    }).catch(() => undefined),
  );
  try {
    await waitFor(
      () => {
        const s = mesh.sims[0]!.engine.stats();
        return s.running + s.waiting === 12;
      },
      5000,
      'the load to reach the simulator',
    );

    const res = await fetch(`${mesh.routerUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-mesh-slo-class': 'latency',
        'x-mesh-timeout-ms': '500',
      },
      body: chatBody('are you busy?'),
    });
    const body = (await res.json()) as { error?: { code?: string; type?: string; message?: string } };
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1, `retry-after ${res.headers.get('retry-after')}`);
    assert.equal(res.headers.get('mesh-error-code'), 'rate_limited');
    assert.equal(body.error?.code, 'rate_limited');
    assert.equal(body.error?.type, 'rate_limit_error');
    assert.match(body.error?.message ?? '', /predicted wait \d+ ms exceeds 500 ms/);

    const admit = await mesh.scoring.admit({
      model: MODEL,
      endpointId: mesh.endpointId(0),
      sloClass: SloClass.LATENCY,
      timeoutSeconds: 0.5,
    });
    assert.equal(admit.admitted, false, admit.reason);
    assert.ok(admit.retryAfterSeconds >= 1);
    assert.ok(admit.estimatedWaitTimeMs > 500);

    // Without the tight timeout the same request fits the latency class's 10 s.
    const roomy = await mesh.scoring.admit({ model: MODEL, endpointId: mesh.endpointId(0) });
    assert.equal(roomy.admitted, true, roomy.reason);
  } finally {
    load.abort();
    await Promise.all(pending);
  }
});
