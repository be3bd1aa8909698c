/**
 * `node bench/routing/prefix-precise-scarce.ts [--kv-blocks N] [--requests N] [--rps X] [--seeds 1,2,3]`
 *
 * Precise vs approximate prefix routing where KV memory is scarce: the Mooncake trace on 16 × H100
 * whose KV caches are cut to `--kv-blocks` blocks of 16 (default 10,000: 160k tokens, a few long
 * conversations; requests that cannot fit are left out), so engines evict often and the router's own history (approximate) goes stale,
 * while KV events (precise) say what is gone. Prints one row per seed and profile (virtual mode,
 * same code path as `npm run bench:routing`: `runVirtual`).
 */
import { parseArgs } from 'node:util';
import { makeFleet } from './capacity.ts';
import { traceRps } from './capacity-slo.ts';
import { summarise } from './metrics.ts';
import { loadTrace, sampleRequests } from './traces.ts';
import { runVirtual } from './virtual.ts';

const { values } = parseArgs({
  options: {
    trace: { type: 'string', default: '../shared/traces/mooncake_fast25/conversation_trace.jsonl' },
    'kv-blocks': { type: 'string', default: '10000' },
    requests: { type: 'string', default: '1000' },
    rps: { type: 'string', default: '8' },
    seeds: { type: 'string', default: '1,2,3' },
    strategies: { type: 'string', default: 'llm-d,llm-d-precise,default,default-precise' },
  },
});
const trace = loadTrace(values.trace);
const fleet = makeFleet('h100', 16).map((s) => ({ ...s, kvBlocks: Number(values['kv-blocks']) }));
const rps = Number(values.rps);
process.stdout.write(
  '| seed | profile | prefix hit rate | TTFT p50 ms | TTFT p99 ms | SLO % |\n|---|---|---|---|---|---|\n',
);
for (const seed of values.seeds.split(',').map(Number)) {
  // Requests that could never fit the cut cache are left out (a few of Mooncake's 100k+ prompts).
  const fits = Number(values['kv-blocks']) * 16;
  const requests = sampleRequests(trace, Number(values.requests), seed).filter(
    (r) => r.inputTokens + r.outputTokens <= fits,
  );
  for (const profile of values.strategies.split(',')) {
    const r = runVirtual({
      requests,
      timeFactor: traceRps(requests) / rps,
      fleet,
      profile,
      seed,
      scrapeIntervalMs: profile.startsWith('llm-d') ? 50 : 1000,
      admission: false,
    });
    const s = summarise(r.records, r, r.prefixHitRate);
    process.stdout.write(
      `| ${seed} | ${profile} | ${s.prefixHitRate.toFixed(4)} | ${s.ttftP50Ms.toFixed(0)} | ${s.ttftP99Ms.toFixed(0)} | ${(s.goodputFrac * 100).toFixed(1)} |\n`,
    );
  }
}
