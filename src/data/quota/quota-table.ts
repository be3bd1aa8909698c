/**
 * Where the quota buckets of a node live: one SharedArrayBuffer that every router thread of the
 * node reads and writes, so a tenant's budget is one budget whichever worker thread its
 * connections land on. Layout: a lock word, then per bucket two float64 cells (level, time of the
 * last take). The bucket of each (tenant, quota policy, model or `*`) and each dimension
 * (requests, tokens) has a fixed place computed from the quota rules alone, so every thread that
 * holds the same rules finds the same places; a new policy comes with a new table (levels of the
 * buckets both have carried over). Takes are all-or-nothing under the lock: a request over one of
 * its budgets takes from none.
 */
import type { QuotaRule } from '../routing-rules.ts';
import { levelAt, splitLimits, waitMs, type BucketLimits } from './token-bucket.ts';

/** Bytes before the first cell: the lock word, padded to float64 alignment. */
const HEADER_BYTES = 8;
/** Float64 cells per bucket: level, time of the last take. */
const CELLS = 2;
/**
 * Spins on the lock before taking it anyway: a take holds it for a few arithmetic operations,
 * so a lock held this long belongs to a thread that died (was terminated) inside one.
 */
const SPIN_LIMIT = 1_000_000;

/** One budget a request may take from. */
interface Budget {
  rule: QuotaRule;
  /** Index of its requests bucket (its tokens bucket is the next one). */
  bucket: number;
}

export interface QuotaTable {
  readonly memory: SharedArrayBuffer;
  /** Index of the requests bucket of each (tenant, policy, model) key; its tokens bucket is next. */
  readonly places: ReadonlyMap<string, number>;
  /**
   * Takes one request of `cost` tokens for (`tenant`, `model`) from every budget that covers it,
   * each split over `routers` routers, at the time `now` gives (ms, one clock for all threads;
   * read under the lock, so the times stored only grow). Returns 0 when taken, else the ms until
   * every budget could pass it (nothing taken).
   */
  take(tenant: string, model: string, cost: number, routers: number, now: () => number): number;
}

const keyOf = (rule: QuotaRule, model: string) => `${rule.tenant}\u0000${rule.policy}\u0000${model}`;
const modelsOf = (rule: QuotaRule): string[] =>
  rule.models.length === 0 ? ['*'] : [...new Set(rule.models)];

/** Bucket index of every (rule, model) key, in rule order: the same in every thread. */
function layout(rules: readonly QuotaRule[]): Map<string, number> {
  const places = new Map<string, number>();
  for (const rule of rules) {
    for (const model of modelsOf(rule))
      if (!places.has(keyOf(rule, model))) places.set(keyOf(rule, model), places.size * 2);
  }
  return places;
}

const bytesFor = (places: Map<string, number>) => HEADER_BYTES + places.size * 2 * CELLS * 8;

/** A table for `rules` in new memory; buckets `previous` also had keep their levels. */
export function createQuotaTable(rules: readonly QuotaRule[], previous?: QuotaTable): QuotaTable {
  const places = layout(rules);
  const memory = new SharedArrayBuffer(bytesFor(places));
  const cells = new Float64Array(memory, HEADER_BYTES);
  cells.fill(Number.NaN);
  if (previous) {
    const from = new Float64Array(previous.memory, HEADER_BYTES);
    for (const [key, bucket] of places) {
      const was = previous.places.get(key);
      if (was !== undefined) cells.set(from.subarray(was * CELLS, (was + 2) * CELLS), bucket * CELLS);
    }
  }
  return attach(rules, memory, places);
}

/** The table `memory` holds for `rules` (made by another thread with the same rules). */
export function attachQuotaTable(rules: readonly QuotaRule[], memory: SharedArrayBuffer): QuotaTable {
  const places = layout(rules);
  if (memory.byteLength !== bytesFor(places)) throw new Error('quota memory does not match its rules');
  return attach(rules, memory, places);
}

function attach(
  rules: readonly QuotaRule[],
  memory: SharedArrayBuffer,
  places: Map<string, number>,
): QuotaTable {
  const lock = new Int32Array(memory, 0, 1);
  const cells = new Float64Array(memory, HEADER_BYTES);
  // tenant → its rules with the bucket of each model (or `*`).
  const byTenant = new Map<string, Array<{ rule: QuotaRule; buckets: Map<string, number> }>>();
  for (const rule of rules) {
    const buckets = new Map(modelsOf(rule).map((m) => [m, places.get(keyOf(rule, m))!]));
    let list = byTenant.get(rule.tenant);
    if (!list) byTenant.set(rule.tenant, (list = []));
    list.push({ rule, buckets });
  }
  const budgetsOf = (tenant: string, model: string): Budget[] => {
    const out: Budget[] = [];
    for (const { rule, buckets } of byTenant.get(tenant) ?? []) {
      const bucket = buckets.get(rule.models.length === 0 ? '*' : model);
      if (bucket !== undefined) out.push({ rule, bucket });
    }
    return out;
  };

  return {
    memory,
    places,
    take(tenant, model, cost, routers, now) {
      const budgets = budgetsOf(tenant, model);
      if (budgets.length === 0) return 0;
      // (bucket, limits, need) of every dimension a rule limits.
      const parts: Array<[number, BucketLimits, number]> = [];
      for (const { rule, bucket } of budgets) {
        if (rule.requestsPerSecond !== undefined) {
          const burst = rule.burstRequests ?? rule.requestsPerSecond;
          parts.push([bucket, splitLimits(rule.requestsPerSecond / 1000, burst, routers, 1), 1]);
        }
        if (rule.tokensPerMinute !== undefined) {
          const burst = rule.burstTokens ?? rule.tokensPerMinute;
          parts.push([bucket + 1, splitLimits(rule.tokensPerMinute / 60_000, burst, routers, cost), cost]);
        }
      }
      for (let spins = 0; Atomics.compareExchange(lock, 0, 0, 1) !== 0 && spins < SPIN_LIMIT; spins++);
      try {
        const t = now();
        let wait = 0;
        const levels = parts.map(([b, limits, need]) => {
          const level = levelAt(cells[b * CELLS]!, cells[b * CELLS + 1]!, t, limits);
          wait = Math.max(wait, waitMs(level, need, limits));
          return level;
        });
        if (wait > 0) return wait;
        parts.forEach(([b, , need], i) => {
          cells[b * CELLS] = levels[i]! - need;
          cells[b * CELLS + 1] = t;
        });
        return 0;
      } finally {
        Atomics.store(lock, 0, 0);
      }
    },
  };
}
