/**
 * `node bench/routing/multi-router-virtual.ts [--trace FILE] [--requests 1000] [--sims 8]
 * [--routers 3] [--loads 0.8] [--seeds 1,2,3] [--share-ms 20] [--strategies default] [--bursts]`
 *
 * Active-active routers on virtual time: the real scoring engine, one per router, in front of
 * simulated engines on one heap clock (as `virtual.ts`), the client sending request i to router
 * i mod N. Three setups per (load, seed, strategy): one router; N routers relaying their routing
 * (each router's `createRouteRelay` hands its events to the others every `--share-ms`, the
 * interval of `router.shareInFlight`'s link, plus one hop); N routers not sharing. Prints TTFT
 * p50/p99, N ÷ 1 ratios, the engines' prefix hit rate, the share sent to H100s, and a summary
 * over seeds. No sockets and no CPU in the latencies: a check of the sharing design
 * itself, which `--mode real --routers N` then measures through real processes.
 */
import { parseArgs } from 'node:util';
import { createScoringEngine, type ScoringEngine } from '../../src/scoring/engine.ts';
import { createRouteRelay } from '../../src/scoring/route-relay.ts';
import { prefixBlockHashes } from '../../src/scoring/prefix-index.ts';
import { BUILTIN_PROFILES, PRECISE_PROFILES } from '../../src/scoring/profiles.ts';
import { createRng } from '../../src/sim/rng.ts';
import { scrapedState } from '../../src/sim/testing/scraped-state.ts';
import { sloCapacity, traceRps } from './capacity-slo.ts';
import { createHeapClock } from './heap-clock.ts';
import { createVirtualFleet } from './virtual.ts';
import { quantile } from './metrics.ts';
import { pairedRatio, type Interval } from '../lib/stats.ts';
import { realFleet } from './real.ts';
import { loadTrace, promptTokenIds, sampleRequests, type TraceRequest } from './traces.ts';
import type { EndpointSpec } from './capacity.ts';

const MODEL = 'sim-llama-3-8b';
const NODE = 'sim';

interface Setup {
  label: string;
  routers: number;
  /**
   * `router.shareInFlight`: each router's route relay (src/scoring/route-relay.ts) hands its new
   * events to the others this often, plus a millisecond for the gpu node's hop.
   */
  shareMs?: number;
}

function run(o: {
  requests: readonly TraceRequest[];
  timeFactor: number;
  fleet: readonly EndpointSpec[];
  profile: string;
  seed: number;
  scrapeIntervalMs: number;
  setup: Setup;
  spreadK?: number;
}): { ttfts: number[]; prefixHitRate: number; toH100: number } {
  const clock = createHeapClock();
  const rng = createRng(o.seed);
  const routers: ScoringEngine[] = Array.from({ length: o.setup.routers }, () =>
    createScoringEngine({
      now: () => clock.now(),
      random: rng,
      profile: o.profile,
      // `--spread-k K`: the profile's picker becomes a weighted draw among its K best (an experiment).
      ...(o.spreadK
        ? {
            profiles: {
              [o.profile]: {
                ...(BUILTIN_PROFILES[o.profile] ?? PRECISE_PROFILES[o.profile]),
                picker: { type: 'top-k-random', params: { k: o.spreadK } },
              },
            },
          }
        : {}),
    }),
  );
  // Precise profiles: every router's precise index follows the engines' KV events (10 ms later).
  const precise = o.profile in PRECISE_PROFILES;
  const engines = createVirtualFleet({
    fleet: o.fleet,
    seed: o.seed,
    clock,
    kvEvents: precise
      ? { sink: { apply: (u) => routers.forEach((r) => r.precisePrefix.apply(u)) }, delayMs: 10 }
      : undefined,
  });
  const idOf = (i: number) => `${NODE}/${o.fleet[i]!.gpu}-${i}`;
  // One scrape feeds every router (the gpu node's stream), as in real mode.
  const scrape = (i: number) => {
    const state = {
      ...scrapedState(engines[i]!, {
        endpointId: idOf(i),
        index: i,
        model: MODEL,
        gpuType: o.fleet[i]!.gpu.toUpperCase(),
        now: clock.now(),
      }),
      node: NODE,
    };
    for (const r of routers) r.fleet.upsert(state);
  };
  const indexOf = new Map<string, number>();
  engines.forEach((_, i) => {
    scrape(i);
    indexOf.set(idOf(i), i);
  });
  let outstanding = o.requests.length;
  const scrapeLoop = (i: number) => {
    scrape(i);
    if (outstanding > 0) clock.setTimer(o.scrapeIntervalMs, () => scrapeLoop(i));
  };
  engines.forEach((_, i) =>
    clock.setTimer((o.scrapeIntervalMs * (i + 1)) / engines.length, () => scrapeLoop(i)),
  );
  if (o.setup.shareMs !== undefined && routers.length > 1) {
    const shareMs = o.setup.shareMs;
    const relays = routers.map((r) => createRouteRelay(r, NODE));
    const share = () => {
      relays.forEach((from, k) => {
        const events = from.take();
        if (events.length === 0) return;
        // The relay hop (gpu node, stream): a millisecond later.
        clock.setTimer(1, () => relays.forEach((to) => to !== from && to.apply(`router-${k}`, events)));
      });
      if (outstanding > 0) clock.setTimer(shareMs, share);
    };
    share();
  }

  const ttfts: number[] = [];
  let toH100 = 0;
  const arrive = (r: TraceRequest, idx: number) => {
    const scoring = routers[idx % routers.length]!;
    const ids = promptTokenIds(r, idx);
    const req = {
      model: MODEL,
      promptTokens: ids.length,
      maxTokens: r.maxTokens ?? r.outputTokens,
      blockHashes: prefixBlockHashes(ids, scoring.blockTokens),
      tokenIds: ids,
      stream: true,
    };
    const d = scoring.decide(req);
    if (o.fleet[indexOf.get(d.target.endpointId)!]!.gpu === 'h100') toH100++;
    const start = clock.now();
    const ticket = scoring.routed(d.target, req, d.predictedWaitMs);
    let first = NaN;
    engines[indexOf.get(d.target.endpointId)!]!.submit({
      promptTokenIds: ids,
      maxTokens: r.outputTokens,
      ignoreEos: true,
      onToken: (_t, index) => {
        if (index === 0) {
          first = clock.now() - start;
          scoring.firstToken(ticket, first);
        }
      },
      onFinish: () => {
        scoring.finished(ticket, { ok: true, e2eMs: clock.now() - start, ttftMs: first });
        ttfts.push(first);
        outstanding--;
      },
    });
  };
  o.requests.forEach((r, idx) => clock.setTimer(r.arrivalMs * o.timeFactor, () => arrive(r, idx)));
  while (clock.step());
  let hits = 0;
  let queries = 0;
  for (const e of engines) {
    const c = e.counters();
    hits += c.prefixHits;
    queries += c.prefixQueries;
    e.close();
  }
  return {
    ttfts: ttfts.sort((a, b) => a - b),
    prefixHitRate: queries > 0 ? hits / queries : 0,
    toH100: toH100 / o.requests.length,
  };
}

const { values } = parseArgs({
  options: {
    trace: { type: 'string', default: '../shared/traces/mooncake_fast25/conversation_trace.jsonl' },
    requests: { type: 'string', default: '1000' },
    sims: { type: 'string', default: '8' },
    routers: { type: 'string', default: '3' },
    loads: { type: 'string', default: '0.8' },
    seeds: { type: 'string', default: '1,2,3' },
    'share-ms': { type: 'string', default: '20' },
    'scrape-ms': { type: 'string', default: '1000' },
    strategies: { type: 'string', default: 'default' },
    /** Capacity (req/s) to take loads of, instead of searching it (the search takes minutes). */
    capacity: { type: 'string' },
    'spread-k': { type: 'string' },
    /** Replays Mooncake's 3 s buckets as recorded: bursts of simultaneous requests (traces.ts). */
    bursts: { type: 'boolean', default: false },
  },
});

const trace = loadTrace(values.trace, { spreadBuckets: !values.bursts });
const fleet = realFleet(Number(values.sims));
const n = Number(values.routers);
const setups: Setup[] = [
  { label: '1 router', routers: 1 },
  { label: `${n} routers, shared`, routers: n, shareMs: Number(values['share-ms']) },
  { label: `${n} routers, not shared`, routers: n },
];
const scrapeIntervalMs = Number(values['scrape-ms']);
/** p50 and p99 per (load, strategy, setup), one entry per seed, for the summary. */
const bySetup = new Map<string, { p50: number[]; p99: number[] }>();
console.log(
  `| seed | load | strategy | setup | TTFT p50 ms | TTFT p99 ms | p50 ÷ 1 router | p99 ÷ 1 router | prefix hit % | to H100 % |\n|---|---|---|---|---|---|---|---|---|---|`,
);
for (const seed of values.seeds.split(',').map(Number)) {
  const requests = sampleRequests(trace, Number(values.requests), seed);
  const cap = values.capacity
    ? { rps: Number(values.capacity) }
    : sloCapacity({
        bySeed: new Map([[seed, requests]]),
        fleet,
        baseline: 'least-outstanding',
        scrapeIntervalMs,
      });
  for (const load of values.loads.split(',').map(Number)) {
    const timeFactor = traceRps(requests) / (load * cap.rps);
    for (const profile of values.strategies.split(',')) {
      let one = { p50: NaN, p99: NaN };
      for (const setup of setups) {
        const spreadK = values['spread-k'] ? Number(values['spread-k']) : undefined;
        const r = run({ requests, timeFactor, fleet, profile, seed, scrapeIntervalMs, setup, spreadK });
        const t = r.ttfts;
        const s = { p50: quantile(t, 0.5), p99: quantile(t, 0.99) };
        if (setup.routers === 1) one = s;
        const key = `${load} | ${profile} | ${setup.label}`;
        const acc = bySetup.get(key) ?? { p50: [], p99: [] };
        acc.p50.push(s.p50);
        acc.p99.push(s.p99);
        bySetup.set(key, acc);
        console.log(
          `| ${seed} | ${load} (${(load * cap.rps).toFixed(2)} rps) | ${profile} | ${setup.label} | ${s.p50.toFixed(0)} | ${s.p99.toFixed(0)} | ${(s.p50 / one.p50).toFixed(2)} | ${(s.p99 / one.p99).toFixed(2)} | ${(100 * r.prefixHitRate).toFixed(1)} | ${(100 * r.toH100).toFixed(1)} |`,
        );
      }
    }
  }
}

// Over seeds: each setup's TTFT ÷ one router's, paired by seed (geometric mean, 95% t-interval).
console.log(
  `\n| load | strategy | setup | seeds | TTFT p50 ÷ 1 router [95% CI] | TTFT p99 ÷ 1 router [95% CI] |\n|---|---|---|---|---|---|`,
);
const fmt = (i: Interval) => `${i.mean.toFixed(2)} [${i.lo.toFixed(2)}, ${i.hi.toFixed(2)}]`;
for (const [key, acc] of bySetup) {
  const one = bySetup.get(key.replace(/[^|]*$/, ' 1 router'));
  if (!one || one === acc) continue;
  console.log(
    `| ${key} | ${acc.p50.length} | ${fmt(pairedRatio(acc.p50, one.p50))} | ${fmt(pairedRatio(acc.p99, one.p99))} |`,
  );
}
