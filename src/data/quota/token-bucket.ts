/**
 * Token-bucket arithmetic over two numbers kept wherever the caller keeps them (`quota-table.ts`
 * keeps them in shared memory): the level after the last take, and when that was. The bucket
 * refills lazily, on each look, at `ratePerMs` up to `capacity`; nothing runs on a timer. A fresh
 * bucket (level NaN) is full. Pure functions of the time they are given, so tests run on virtual
 * time.
 */

export interface BucketLimits {
  /** Refill rate, units per millisecond. */
  ratePerMs: number;
  /** Most units the bucket holds (the burst). */
  capacity: number;
}

/** The level at `now` of a bucket left at `level` at time `at`. */
export function levelAt(level: number, at: number, now: number, limits: BucketLimits): number {
  if (Number.isNaN(level)) return limits.capacity;
  return Math.min(limits.capacity, level + Math.max(0, now - at) * limits.ratePerMs);
}

/** Rounding slack: a level short of the cost by less than this (float error of refills) is enough. */
const EPSILON = 1e-9;

/** Milliseconds until a bucket now at `level` holds `cost` (0: it does now). */
export function waitMs(level: number, cost: number, limits: BucketLimits): number {
  return level >= cost - EPSILON ? 0 : (cost - level) / limits.ratePerMs;
}

/**
 * The limits one router enforces of a rate and burst shared by `routers` routers: each gets
 * 1/routers of both. The capacity never falls below `cost`, so a request that costs more than
 * its router's share of the burst still passes once that much has accumulated (at the split
 * rate) instead of never.
 */
export function splitLimits(perMs: number, burst: number, routers: number, cost: number): BucketLimits {
  const n = Math.max(1, routers);
  return { ratePerMs: perMs / n, capacity: Math.max(burst / n, cost) };
}
