/**
 * One scheduling decision per engine step, in the manner of vLLM V1's scheduler: a token budget per
 * step (chunked prefill: a long prompt is computed over several steps), running requests first in
 * admission order, then the FIFO waiting queue while the batch has fewer than `maxNumSeqs` requests.
 * When a running request needs a new KV block and none is free, the newest running request is
 * preempted (its blocks freed, its progress dropped; it goes back to the head of the queue and is
 * recomputed later, prefix cache permitting).
 */
import type { BlockHash, KvCache } from './kv-cache.ts';

/** The scheduler's view of a request. */
export interface SchedRequest {
  readonly promptLen: number;
  readonly promptHashes: readonly BlockHash[];
  /** Simulated ms at which it arrived; it is not scheduled in a step that starts earlier. */
  readonly arrivalSim: number;
  outputCount: number;
  /** Tokens whose KV is computed (prompt first, then generated tokens). */
  numComputed: number;
  blocks: number[];
  /** Leading prompt blocks already registered in the prefix cache. */
  cachedBlocks: number;
}

/** One request's work in a step. */
export interface PlannedItem<R extends SchedRequest> {
  req: R;
  newTokens: number;
  contextTokens: number;
}

export interface SchedulerQueues<R extends SchedRequest> {
  /** Admission order; the last is the first to be preempted. */
  running: R[];
  /** FIFO; preempted requests re-enter at the head. */
  waiting: R[];
}

export interface SchedulerLimits {
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  enablePrefixCaching: boolean;
}

export interface SchedulerEvents<R extends SchedRequest> {
  preempted(req: R): void;
  /** A waiting request joined the batch; `queried` tokens were looked up, `hit` of them were cached. */
  admitted(req: R, queried: number, hit: number): void;
}

/** Plans one step starting at `startSim`, mutating queues, KV references and the requests' blocks. */
export function planStep<R extends SchedRequest>(
  queues: SchedulerQueues<R>,
  kv: KvCache,
  limits: SchedulerLimits,
  startSim: number,
  events: SchedulerEvents<R>,
): PlannedItem<R>[] {
  const bs = kv.blockSize;
  const items: PlannedItem<R>[] = [];
  let budget = limits.maxNumBatchedTokens;
  let preempted = false;

  for (let i = 0; i < queues.running.length && budget > 0;) {
    const req = queues.running[i] as R;
    const total = req.promptLen + req.outputCount;
    const newTokens = Math.min(total - req.numComputed, budget);
    const need = Math.ceil((req.numComputed + newTokens) / bs) - req.blocks.length;
    let fits = true;
    while (need > kv.numFree()) {
      const victim = queues.running.pop() as R;
      preempt(victim, kv, queues, events);
      preempted = true;
      if (victim === req) {
        fits = false;
        break;
      }
    }
    if (!fits) break;
    if (need > 0) req.blocks.push(...(kv.allocate(need) ?? []));
    items.push({ req, newTokens, contextTokens: req.numComputed });
    budget -= newTokens;
    i++;
  }

  // vLLM admits nothing new in a step that had to preempt: memory is already short.
  while (!preempted && budget > 0 && queues.running.length < limits.maxNumSeqs) {
    const req = queues.waiting[0];
    if (!req || req.arrivalSim > startSim) break;
    const total = req.promptLen + req.outputCount;
    // At least one token must be computed to produce the next one, so a full hit stops one short.
    const maxHitBlocks = Math.floor((total - 1) / bs);
    const hits = limits.enablePrefixCaching ? kv.lookup(req.promptHashes.slice(0, maxHitBlocks)) : [];
    const computed = hits.length * bs;
    const newTokens = Math.min(total - computed, budget);
    const need = Math.ceil((computed + newTokens) / bs) - hits.length;
    const freeHits = hits.reduce((n, id) => n + (kv.refCount(id) === 0 ? 1 : 0), 0);
    if (need > kv.numFree() - freeHits) break; // head-of-line: FIFO keeps its order
    kv.touch(hits);
    req.blocks = [...hits, ...(kv.allocate(need) ?? [])];
    req.numComputed = computed;
    req.cachedBlocks = hits.length;
    queues.waiting.shift();
    queues.running.push(req);
    events.admitted(req, limits.enablePrefixCaching ? total : 0, limits.enablePrefixCaching ? computed : 0);
    items.push({ req, newTokens, contextTokens: computed });
    budget -= newTokens;
  }
  return items;
}

function preempt<R extends SchedRequest>(
  req: R,
  kv: KvCache,
  queues: SchedulerQueues<R>,
  events: SchedulerEvents<R>,
): void {
  kv.free(req.blocks);
  req.blocks = [];
  req.numComputed = 0;
  req.cachedBlocks = 0;
  queues.waiting.unshift(req);
  events.preempted(req);
}
