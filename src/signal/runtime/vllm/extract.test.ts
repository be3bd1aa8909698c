/** vLLM /metrics → per-model readings, on the verbatim pages of the reference doc (§0.1, §1.4). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheus } from '../prometheus/index.ts';
import { readFixture } from '../testing/fixtures.ts';
import { extractVllm } from './extract.ts';
import { vllmPage } from './page-builder.ts';

const fixture = (name: string, opts = {}) => readFixture(import.meta.url, `./fixtures/${name}`, opts);
const extract = (text: string, format?: 'text' | 'openmetrics') =>
  extractVllm(parsePrometheus(text, { format }));

describe('extractVllm on verbatim pages', () => {
  it('§1.4.1 vLLM 0.10.0 V1 (engine="0"): tiny scientific KV usage, prefix counters, _created ignored', () => {
    const snap = extract(fixture('vllm-0.10.0-v1-engine0.prom'));
    const glm = snap.models.get('zai-org/GLM-4.5');
    assert.ok(glm);
    assert.equal(glm.kvCacheUsage, 9.75010481363281e-6);
    // The V1 queries counter is on the page, so the pair comes from the V1 names; V1 hits are cut from
    // the excerpt, so there are no hits to pair with (the old-name hits must not be mixed in).
    assert.equal(glm.prefixQueries?.name, 'vllm:prefix_cache_queries_total');
    assert.deepEqual([...glm.prefixQueries.series.values()], [{ value: 32 }]);
    assert.equal(glm.prefixHits, undefined);
    assert.deepEqual([...snap.models.keys()], ['zai-org/GLM-4.5']);
  });

  it('§1.4.3 V1-era without engine, multiprocess ordering: old KV name, cache config, histograms', () => {
    const snap = extract(fixture('vllm-v1-era-no-engine.commented.txt', { uncomment: true }));
    assert.deepEqual([...snap.models.keys()], ['Qwen/Qwen3-0.6B']);
    const q = snap.models.get('Qwen/Qwen3-0.6B')!;
    assert.equal(q.running, 0);
    assert.equal(q.waiting, 0);
    assert.equal(q.kvCacheUsage, 0);
    assert.equal(snap.kvBlockSize, 16);
    assert.equal(snap.kvBlocksTotal, 2340);
    assert.deepEqual([...q.requests!.series.values()], [{ value: 38 }]);
    assert.deepEqual([...q.promptTokens!.series.values()], [{ value: 43952 }]);
    const ttft = [...q.ttft!.series.values()][0]!;
    assert.equal(ttft.buckets.length, 23);
    assert.deepEqual(ttft.buckets.at(-1), { le: Infinity, count: 69 });
    assert.deepEqual(ttft.buckets[0], { le: 0.001, count: 0 });
    assert.equal(q.e2e?.series.size, 1);
  });

  it('§1.4.4 + §1.4.5 V0 page with newer families: V1 KV name preferred, prefix pair, blocks', () => {
    const snap = extract(
      `${fixture('vllm-v0-datadog.prom')}\n${fixture('vllm-newer-families-datadog.prom')}`,
    );
    const opt = snap.models.get('facebook/opt-125m')!;
    assert.equal(opt.kvCacheUsage, 0);
    assert.equal(opt.prefixHits?.name, 'vllm:prefix_cache_hits_total');
    assert.deepEqual([...opt.prefixHits.series.values()], [{ value: 64 }]);
    assert.deepEqual([...opt.prefixQueries!.series.values()], [{ value: 117 }]);
    assert.equal(snap.kvBlocksTotal, 7281);
    assert.equal(opt.itl?.name, 'vllm:inter_token_latency_seconds');
    assert.equal([...opt.ttft!.series.values()][0]?.buckets.at(-1)?.count, 1);
  });

  it('§1.4.6 http instrumentator lines alone: no models', () => {
    const snap = extract(fixture('vllm-http-instrumentator.txt', { dropShell: true }));
    assert.equal(snap.models.size, 0);
  });

  it('§0.1 OpenMetrics rendering: colon → underscore sample names still read', () => {
    const snap = extract(
      readFixture(import.meta.url, '../prometheus/fixtures/prometheus-client-0.26-openmetrics.prom'),
      'openmetrics',
    );
    const m = snap.models.get('m')!;
    assert.equal(m.running, 3);
    assert.deepEqual([...m.promptTokens!.series.values()], [{ value: 5, created: 1.7954297921390994e9 }]);
    assert.equal([...m.ttft!.series.values()][0]?.created, 1.7954297921391451e9);
  });

  it('§0.1 text rendering: _created gauges pair with their counter, never read as one', () => {
    const m = extract(
      readFixture(import.meta.url, '../prometheus/fixtures/prometheus-client-0.26-text.prom'),
    ).models.get('m')!;
    assert.deepEqual([...m.promptTokens!.series.values()], [{ value: 5, created: 1.7954297921390994e9 }]);
  });
});

describe('extractVllm name collisions and engines', () => {
  it('matches exact names only', () => {
    const page = [
      'vllm:num_requests_waiting_by_reason{engine="0",model_name="m",reason="capacity"} 7.0',
      'vllm:external_prefix_cache_hits_total{engine="0",model_name="m"} 50.0',
      'vllm:external_prefix_cache_queries_total{engine="0",model_name="m"} 100.0',
      'vllm:prefix_cache_hits_created{engine="0",model_name="m"} 1.7e9',
      'vllm:num_requests_running{engine="0",model_name="m"} 1.0',
    ].join('\n');
    const m = extract(page).models.get('m')!;
    assert.deepEqual(m, { model: 'm', running: 1 });
  });

  it('sums queue and running over engines, averages KV usage, sums GPU blocks', () => {
    const page = vllmPage('dp', [
      { engine: '0', running: 3, waiting: 1, kvUsage: 0.2, numGpuBlocks: 1000 },
      { engine: '1', running: 5, waiting: 2, kvUsage: 0.4, numGpuBlocks: 1000 },
    ]);
    const snap = extract(page);
    const dp = snap.models.get('dp')!;
    assert.equal(dp.running, 8);
    assert.equal(dp.waiting, 3);
    assert.ok(Math.abs(dp.kvCacheUsage! - 0.3) < 1e-12);
    assert.equal(snap.kvBlocksTotal, 2000);
    assert.equal(snap.kvBlockSize, 16);
  });

  it('ignores NaN gauges and a cache config without blocks yet', () => {
    const snap = extract(
      'vllm:num_requests_running{model_name="m"} NaN\nvllm:cache_config_info{block_size="16",num_gpu_blocks="None"} 1.0\n',
    );
    assert.equal(snap.models.get('m'), undefined);
    assert.equal(snap.kvBlocksTotal, undefined);
  });
});
