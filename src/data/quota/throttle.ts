/**
 * At most one call per key per interval: what keeps a tenant hammering its quota from turning
 * each rejected request into an event. Keys seen once are forgotten after the interval, so the
 * map holds only recently active keys.
 */
export function createThrottle(intervalMs: number, now: () => number = () => performance.now()) {
  const last = new Map<string, number>();
  return {
    /** True (and the key's interval starts) when `key` last passed more than `intervalMs` ago. */
    pass(key: string): boolean {
      const t = now();
      const before = last.get(key);
      if (before !== undefined && t - before < intervalMs) return false;
      if (last.size > 1000) for (const [k, at] of last) if (t - at >= intervalMs) last.delete(k);
      last.set(key, t);
      return true;
    },
  };
}
