// Prometheus for real: Debian's prometheus, on the shipped scrape config and rules, scrapes a
// two-node mesh that has served traffic (test/helpers/prometheus-mesh.ts). Through its HTTP API:
// both targets are up, every series arrives with the labels docs/METRICS.md documents, the node
// label tells the nodes apart, every recording rule has a value, every alert rule evaluates without
// error, and the quarantine the fixture caused fires its alert.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { waitFor } from './helpers/local-mesh.ts';
import { prometheusSkipReason } from './helpers/prometheus.ts';
import { HOT_GPU, MODEL, startPrometheusMesh, type PrometheusMesh } from './helpers/prometheus-mesh.ts';

const skip = prometheusSkipReason();

/** docs/METRICS.md's tables: name → type and labels. */
const documented = new Map(
  [
    ...readFileSync(new URL('../docs/METRICS.md', import.meta.url), 'utf8').matchAll(
      /^\|\s*`(infermesh_[a-z_]+)`\s*\|\s*(\w+)\s*\|([^|]*)\|/gm,
    ),
  ].map((m) => [m[1]!, { type: m[2]!, labels: [...m[3]!.matchAll(/`(\w+)`/g)].map((l) => l[1]!) }]),
);

/**
 * Series this mesh does not export without an event the fixture does not cause: hedges (hedging is
 * off), quotas and tenants (no control-plane tenant), failed runtime scrapes (none fail). Every other
 * documented series must arrive.
 */
const ONLY_AFTER_AN_EVENT = new Set([
  'infermesh_router_hedges_total',
  'infermesh_router_hedges_won_total',
  'infermesh_router_hedges_cancelled_total',
  'infermesh_router_hedges_suppressed_total',
  'infermesh_quota_rejected_total',
  'infermesh_tenant_requests_total',
  'infermesh_scrape_errors_total',
]);

interface RuleGroup {
  name: string;
  file: string;
  rules: Array<{
    name: string;
    type: 'recording' | 'alerting';
    health: string;
    lastError?: string;
    query: string;
  }>;
}

let mesh: PrometheusMesh | undefined;
before(async () => {
  if (!skip) mesh = await startPrometheusMesh();
});
after(async () => {
  await mesh?.close();
});

test('Prometheus scrapes every meshd and runtime of the mesh on the shipped jobs', { skip }, async () => {
  const { prometheus, targets } = mesh!;
  const answer = await prometheus.api<{
    activeTargets: Array<{
      labels: Record<string, string>;
      health: string;
      lastError: string;
      scrapePool: string;
    }>;
  }>('targets', { state: 'active' });
  assert.equal(answer.status, 'success');
  const active = answer.data.activeTargets;
  // The shipped job names, each on the targets the test gave it.
  for (const job of ['infermesh', 'vllm'] as const) {
    const ofJob = active.filter((t) => t.labels.job === job);
    assert.deepEqual(ofJob.map((t) => t.labels.instance).sort(), [...targets[job]].sort(), job);
  }
  assert.equal(active.length, targets.infermesh.length + targets.vllm.length);
  for (const t of active) assert.equal(t.health, 'up', `${t.labels.instance}: ${t.lastError}`);
  const up = await prometheus.query('up == 1');
  assert.equal(up.length, active.length);
});

test('every series arrives with the labels docs/METRICS.md documents', { skip }, async () => {
  const { prometheus } = mesh!;
  assert.ok(documented.size >= 25, `parsed ${documented.size} metrics from docs/METRICS.md`);
  const problems: string[] = [];
  for (const [name, doc] of documented) {
    const match = doc.type === 'histogram' ? `{__name__=~"${name}_(bucket|sum|count)"}` : name;
    const answer = await prometheus.api<Array<Record<string, string>>>('series', {
      'match[]': match,
      start: String(Date.now() / 1000 - 300),
    });
    assert.equal(answer.status, 'success', `${name}: ${answer.error}`);
    if (answer.data.length === 0) {
      if (!ONLY_AFTER_AN_EVENT.has(name)) problems.push(`${name}: no series`);
      continue;
    }
    for (const series of answer.data) {
      // Prometheus adds the target's `job` and `instance`; a histogram's buckets carry `le`.
      const extra = series.__name__!.endsWith('_bucket') ? ['le'] : [];
      const got = Object.keys(series)
        .filter((k) => !['__name__', 'job', 'instance'].includes(k))
        .sort();
      const want = [...doc.labels, ...extra].sort();
      if (got.join() !== want.join()) {
        problems.push(`${series.__name__}: labels ${got.join(',')}, documented ${want.join(',')}`);
      }
    }
  }
  // prom-client's process metrics, under the documented prefix.
  const processSeries = await prometheus.query('count({__name__=~"infermesh_process_.+"})');
  assert.ok(Number(processSeries[0]?.value[1]) > 0, 'infermesh_process_* series');
  assert.deepEqual(problems, []);
});

test('the node label tells the two nodes apart, the router sees both', { skip }, async () => {
  const { prometheus } = mesh!;
  const nodes = async (expr: string) =>
    [...new Set((await prometheus.query(expr)).map((s) => s.metric.node))].sort();
  assert.deepEqual(await nodes('infermesh_model_endpoint_healthy == 1'), ['prom-a', 'prom-b']);
  assert.deepEqual(await nodes('infermesh_gpu_utilization_ratio'), ['prom-a', 'prom-b']);
  assert.deepEqual(await nodes('infermesh_model_kv_cache_usage_ratio'), ['prom-a', 'prom-b']);
  const served = await prometheus.query(
    `sum by (endpoint) (infermesh_router_requests_total{model="${MODEL}"})`,
  );
  assert.deepEqual(served.map((s) => s.metric.endpoint).sort(), [
    'prom-a/sim-a0',
    'prom-a/sim-a1',
    'prom-b/sim-b0',
  ]);
  const peers = await prometheus.query('infermesh_router_peer_up == 1');
  assert.deepEqual(
    peers.map((s) => [s.metric.peer, s.metric.origin]),
    [['prom-b', 'gossip']],
  );
  const alive = await prometheus.query('infermesh_membership_members{state="alive"}');
  assert.deepEqual(
    alive.map((s) => s.value[1]),
    ['2', '2'],
    'each node knows both members alive',
  );
});

test('every shipped recording rule has a value computed from the scraped series', { skip }, async () => {
  const { prometheus } = mesh!;
  const groups = (await prometheus.api<{ groups: RuleGroup[] }>('rules', { type: 'record' })).data.groups;
  const records = groups.flatMap((g) => g.rules.map((r) => r.name));
  assert.ok(records.length >= 5, records.join(', '));
  for (const record of records) {
    const samples = await prometheus.query(record);
    assert.ok(samples.length > 0, `${record} has no value`);
    if (record.startsWith('model:'))
      assert.deepEqual(
        samples.map((s) => s.metric.model),
        [MODEL],
        record,
      );
  }
  const byStatus = await prometheus.query('model:infermesh_router_requests:rate5m');
  assert.deepEqual(
    byStatus.map((s) => s.metric.status),
    ['200'],
  );
  assert.ok(Number(byStatus[0]!.value[1]) > 0);
  // No request was refused or failed: the ratios read 0 (present, not absent).
  for (const ratio of [
    'model:infermesh_router_requests_429:ratio5m',
    'model:infermesh_router_requests_5xx:ratio5m',
  ]) {
    assert.equal((await prometheus.query(ratio))[0]!.value[1], '0', ratio);
  }
  const p99 = Number((await prometheus.query('model:infermesh_router_ttft_seconds:p99_5m'))[0]!.value[1]);
  assert.ok(p99 > 0 && p99 < 5, `TTFT p99 ${p99} s`);
});

test(
  'every alert rule loads and evaluates without error; the quarantine fires its alert',
  { skip },
  async () => {
    const { prometheus } = mesh!;
    const rules = async () => (await prometheus.api<{ groups: RuleGroup[] }>('rules')).data.groups;
    const groups = await rules();
    assert.ok(
      groups.every((g) => g.file.endsWith('deploy/prometheus/rules/infermesh.rules.yml')),
      'the shipped rule file',
    );
    const alerts = groups.flatMap((g) => g.rules).filter((r) => r.type === 'alerting');
    // The alerts of issue 13: endpoint unhealthy, GPU quarantined, TTFT p99 over budget, 429 and 5xx
    // ratios, scrape staleness (Prometheus's and the gpu role's), unreachable peers, gossip suspects.
    assert.deepEqual(alerts.map((a) => a.name).sort(), [
      'InferMeshEndpointUnhealthy',
      'InferMeshGossipSuspects',
      'InferMeshGpuQuarantined',
      'InferMeshPeerUnreachable',
      'InferMeshScrapesFailing',
      'InferMeshTargetDown',
      'InferMeshTooMany429',
      'InferMeshTooMany5xx',
      'InferMeshTtftP99High',
    ]);
    // Health is `unknown` until a rule's first evaluation (every second here).
    await waitFor(
      async () => (await rules()).every((g) => g.rules.every((r) => r.health !== 'unknown')),
      5000,
      'every rule to be evaluated',
    );
    for (const rule of (await rules()).flatMap((g) => g.rules)) {
      assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError}`);
    }
    await waitFor(
      async () =>
        (await prometheus.query(`ALERTS{alertname="InferMeshGpuQuarantined",alertstate="firing"}`)).some(
          (s) =>
            s.metric.gpu_uuid === HOT_GPU && s.metric.node === 'prom-b' && s.metric.reason === 'temperature',
        ),
      5000,
      'InferMeshGpuQuarantined to fire for the overheated GPU',
    );
    // No request was refused or failed: those alerts are not even pending.
    const refusals = await prometheus.query('ALERTS{alertname=~"InferMeshTooMany429|InferMeshTooMany5xx"}');
    assert.deepEqual(
      refusals.map((s) => s.metric.alertname),
      [],
    );
  },
);
