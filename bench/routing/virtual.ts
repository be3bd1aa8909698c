/**
 * Virtual-time routing run: the real scoring engine in front of simulated engines (the same
 * `createSimEngine` the `mesh-sim` server runs), on one heap clock, no sockets. The router sees
 * runtime state only as scraped snapshots, refreshed every `scrapeIntervalMs` (explicit staleness),
 * plus what it knows itself (its own in-flight work, updated at once), exactly as meshd does.
 */
import { admit, DEFAULT_ADMISSION } from '../../src/scoring/admission.ts';
import { createScoringEngine } from '../../src/scoring/engine.ts';
import { prefixBlockHashes } from '../../src/scoring/prefix-index.ts';
import type { SimClock } from '../../src/sim/clock.ts';
import { createSimEngine, type SimEngine } from '../../src/sim/engine.ts';
import { PRECISE_PROFILES } from '../../src/scoring/profiles.ts';
import { kvEventFeed } from './kv-event-feed.ts';
import { createRng } from '../../src/sim/rng.ts';
import { scrapedState } from '../../src/sim/testing/scraped-state.ts';
import { createHeapClock } from './heap-clock.ts';
import type { EndpointSpec } from './capacity.ts';
import { promptTokenIds, type TraceRequest } from './traces.ts';

export interface VirtualRunOptions {
  requests: readonly TraceRequest[];
  /** Factor applied to trace inter-arrival times (trace rate × 1/factor = offered rate). */
  timeFactor: number;
  fleet: readonly EndpointSpec[];
  profile: string;
  seed: number;
  scrapeIntervalMs: number;
  admission: boolean;
  /**
   * Virtual ms from an engine step to its KV events reaching the router's precise index (publish,
   * gpu role, StatePlane stream). Only precise profiles read events. Default 10.
   */
  kvEventDelayMs?: number;
}

export interface RequestRecord {
  ttftMs: number;
  e2eMs: number;
  itlMs: number;
  outputTokens: number;
  status: 'ok' | 'rejected' | 'unavailable';
  endpoint: number;
  /** Position of the request in the trace (for per-request analysis). */
  index: number;
}

export interface VirtualRunResult {
  records: RequestRecord[];
  makespanMs: number;
  /** Virtual ms from the first to the last arrival. */
  offeredMs: number;
  prefixHitRate: number;
  decisionUs: number[];
  preemptions: number;
}

const MODEL = 'sim-llama-3-8b';

/**
 * The fleet's simulated engines, endpoint `sim/<gpu>-<i>`, engine i seeded `seed + i`; with
 * `kvEvents`, each engine's KV events reach `sink` through the vLLM wire format after `delayMs`.
 */
export function createVirtualFleet(o: {
  fleet: readonly EndpointSpec[];
  seed: number;
  clock: SimClock;
  kvEvents?: { sink: Parameters<typeof kvEventFeed>[0]['sink']; delayMs: number };
}): SimEngine[] {
  return o.fleet.map((spec, i) =>
    createSimEngine({
      ...(o.kvEvents
        ? {
            onKvEvents: kvEventFeed({
              endpointId: `sim/${spec.gpu}-${i}`,
              sink: o.kvEvents.sink,
              delayMs: o.kvEvents.delayMs,
              clock: o.clock,
            }),
          }
        : {}),
      model: MODEL,
      profile: spec.gpu,
      maxNumSeqs: spec.maxNumSeqs,
      kvBlocks: spec.kvBlocks,
      maxNumBatchedTokens: spec.maxNumBatchedTokens,
      maxModelLen: 262_144,
      clock: o.clock,
      seed: o.seed + i,
    }),
  );
}

export function runVirtual(o: VirtualRunOptions): VirtualRunResult {
  const clock = createHeapClock();
  const rng = createRng(o.seed);
  const scoring = createScoringEngine({ now: () => clock.now(), random: rng, profile: o.profile });
  // Precise profiles: each engine's KV events, encoded in vLLM's wire format, decoded and applied
  // by the gpu role's adapter code, reach the router's precise index `kvEventDelayMs` later.
  const precise = o.profile in PRECISE_PROFILES;
  const engines = createVirtualFleet({
    fleet: o.fleet,
    seed: o.seed,
    clock,
    kvEvents: precise ? { sink: scoring.precisePrefix, delayMs: o.kvEventDelayMs ?? 10 } : undefined,
  });
  const scrape = (i: number) =>
    scoring.fleet.upsert(
      scrapedState(engines[i]!, {
        endpointId: `sim/${o.fleet[i]!.gpu}-${i}`,
        index: i,
        model: MODEL,
        gpuType: o.fleet[i]!.gpu.toUpperCase(),
        now: clock.now(),
      }),
    );
  const indexOf = new Map<string, number>();
  engines.forEach((_, i) => {
    scrape(i);
    indexOf.set(`sim/${o.fleet[i]!.gpu}-${i}`, i);
  });
  // Staggered scrapes, as independent scrapers would be.
  let outstanding = o.requests.length;
  const scrapeLoop = (i: number) => {
    scrape(i);
    if (outstanding > 0) clock.setTimer(o.scrapeIntervalMs, () => scrapeLoop(i));
  };
  engines.forEach((_, i) =>
    clock.setTimer((o.scrapeIntervalMs * (i + 1)) / engines.length, () => scrapeLoop(i)),
  );

  const records: RequestRecord[] = [];
  const decisionUs: number[] = [];
  const arrive = (r: TraceRequest, idx: number) => {
    const ids = promptTokenIds(r, idx);
    const req = {
      model: MODEL,
      promptTokens: ids.length,
      // The client's cap, as a real router would read it from `max_tokens`.
      maxTokens: r.maxTokens ?? r.outputTokens,
      blockHashes: prefixBlockHashes(ids, scoring.blockTokens),
      tokenIds: ids,
      // Streamed, as real mode's client and most chat clients are: first tokens are reported.
      stream: true,
    };
    const t0 = process.hrtime.bigint();
    const d = scoring.decide(req);
    decisionUs.push(Number(process.hrtime.bigint() - t0) / 1000);
    const start = clock.now();
    if (o.admission && !admit({ predictedWaitMs: d.predictedWaitMs }, DEFAULT_ADMISSION).admitted) {
      records.push({
        ttftMs: NaN,
        e2eMs: NaN,
        itlMs: NaN,
        outputTokens: 0,
        status: 'rejected',
        endpoint: -1,
        index: idx,
      });
      outstanding--;
      return;
    }
    const ticket = scoring.routed(d.target, req, d.predictedWaitMs);
    const endpoint = indexOf.get(d.target.endpointId)!;
    let first = NaN;
    engines[endpoint]!.submit({
      promptTokenIds: ids,
      // The trace's true answer length goes to the engine directly (the "model" stops there); the
      // router never sees it.
      maxTokens: r.outputTokens,
      ignoreEos: true,
      onToken: (_t, index) => {
        if (index === 0) {
          first = clock.now() - start;
          scoring.firstToken(ticket, first);
        }
      },
      onFinish: (res) => {
        const e2e = clock.now() - start;
        scoring.finished(ticket, { ok: true, e2eMs: e2e, ttftMs: first });
        const itl = res.completionTokens > 1 ? (e2e - first) / (res.completionTokens - 1) : 0;
        records.push({
          ttftMs: first,
          e2eMs: e2e,
          itlMs: itl,
          outputTokens: res.completionTokens,
          status: 'ok',
          endpoint,
          index: idx,
        });
        outstanding--;
      },
    });
  };
  o.requests.forEach((r, idx) => clock.setTimer(r.arrivalMs * o.timeFactor, () => arrive(r, idx)));
  while (clock.step());
  let hits = 0;
  let queries = 0;
  let preemptions = 0;
  for (const e of engines) {
    const c = e.counters();
    hits += c.prefixHits;
    queries += c.prefixQueries;
    preemptions += c.preemptions;
    e.close();
  }
  return {
    records,
    makespanMs: clock.now(),
    offeredMs:
      (o.requests.at(-1)?.arrivalMs ?? 0) * o.timeFactor - (o.requests[0]?.arrivalMs ?? 0) * o.timeFactor,
    prefixHitRate: queries > 0 ? hits / queries : 0,
    decisionUs,
    preemptions,
  };
}
