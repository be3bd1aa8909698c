// infermesh.scoring.v1.Scoring over a real gRPC socket, served from meshd's one engine.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { HealthStatus, RequestOutcome } from '../src/gen/infermesh/scoring/v1/scoring_pb.js';
import { MODEL, startScoringMesh, type ScoringMesh } from './helpers/scoring-mesh.ts';

let mesh: ScoringMesh;
before(async () => {
  mesh = await startScoringMesh({ sims: 2, timeScale: 20 });
});
after(() => mesh.close());

const queueMs = async (endpointId: string) => {
  const { targets } = await mesh.scoring.scoreTargets({ model: MODEL, estimatedTokens: 1000, topK: 2 });
  const t = targets.find((x) => x.endpointId === endpointId);
  assert.ok(t, `${endpointId} among ${targets.map((x) => x.endpointId).join(', ')}`);
  return { wait: t.estimatedQueueTimeMs, rank: targets.indexOf(t) };
};

test('ScoreTargets ranks every endpoint with reasons and per-scorer scores', async () => {
  const { targets } = await mesh.scoring.scoreTargets({ model: MODEL, estimatedTokens: 4000, topK: 2 });
  assert.equal(targets.length, 2);
  assert.deepEqual(
    new Set(targets.map((t) => t.endpointId)),
    new Set([mesh.endpointId(0), mesh.endpointId(1)]),
  );
  assert.ok(targets[0]!.score >= targets[1]!.score);
  for (const t of targets) {
    assert.ok(t.score > 0 && t.score <= 1, `score ${t.score}`);
    assert.match(t.reason, /work-left \d\.\d{3}×1/);
    assert.ok(t.endpointUrl.startsWith('http://127.0.0.1:'));
    for (const name of ['work-left', 'kv-pressure', 'in-flight']) {
      const s = t.scores[name];
      assert.ok(s !== undefined && s >= 0 && s <= 1, `${name} = ${s}`);
    }
  }
});

test('Admit counts work against its endpoint; ReportOutcome corrects later estimates', async () => {
  const a = mesh.endpointId(0);
  const before = await queueMs(a);
  // 40,000 prompt tokens at the H100 prior (40k tokens/s): about a second of predicted prefill.
  const admit = await mesh.scoring.admit({ model: MODEL, endpointId: a, estimatedTokens: 40_000 });
  assert.equal(admit.admitted, true, admit.reason);
  assert.notEqual(admit.admissionToken, '');
  const loaded = await queueMs(a);
  assert.ok(loaded.wait > before.wait + 500, `wait ${before.wait} → ${loaded.wait} ms`);
  assert.equal(loaded.rank, 1, 'the loaded endpoint ranks behind the idle one');

  // Its first token came after 50 ms: the queue behind it drains sooner than predicted.
  const report = await mesh.scoring.reportOutcome({
    admissionToken: admit.admissionToken,
    outcome: RequestOutcome.SUCCESS,
    actualTtftMs: 50,
    actualLatencyMs: 400,
  });
  assert.equal(report.success, true, report.message);
  const after = await queueMs(a);
  assert.ok(after.wait < loaded.wait - 500, `wait ${loaded.wait} → ${after.wait} ms`);

  const again = await mesh.scoring.reportOutcome({ admissionToken: admit.admissionToken });
  assert.equal(again.success, false, 'a token is reported once');
});

test('HealthCheck is SERVING with the node profile and endpoints', async () => {
  const health = await mesh.scoring.healthCheck({});
  assert.equal(health.status, HealthStatus.SERVING);
  assert.equal(health.details.profile, 'default');
  assert.equal(health.details.routable, '2');
});
