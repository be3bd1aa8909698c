/**
 * Rate limit for logs about misbehaving peers: the first event of a peer in each interval is
 * reported, the rest are only counted and the count rides on that peer's next report. A node
 * that keeps dialling with a bad certificate (every probe interval, every push-pull) would
 * otherwise write one log line per attempt; counters (`stats()`) keep the exact totals.
 */

/** Options of `createPeerLogLimiter`. */
export interface PeerLogLimiterOptions {
  /** At most one report per peer per this many ms. */
  intervalMs: number;
  /** Peers remembered at once; past it, new peers share one slot (a scan from many sources). */
  maxPeers?: number;
  /** Time source in ms (injectable for tests); default `performance.now`. */
  now?: () => number;
}

/** Decides which events about a peer are logged. */
export interface PeerLogLimiter {
  /**
   * Records one event about `peer`. Returns how many of its events were suppressed since its last
   * report when this one should be reported, or `undefined` when it is to be suppressed.
   */
  take(peer: string): number | undefined;
}

/** The shared slot of peers beyond `maxPeers`. */
export const OVERFLOW_PEER = '*';

/** A limiter of one report per peer per `intervalMs`. */
export function createPeerLogLimiter(o: PeerLogLimiterOptions): PeerLogLimiter {
  const now = o.now ?? (() => performance.now());
  const maxPeers = o.maxPeers ?? 1024;
  /** Per peer: when its current window opened, and events suppressed in it. */
  const windows = new Map<string, { openedAt: number; suppressed: number }>();

  const prune = (t: number) => {
    // A peer quiet for a whole interval loses its suppressed count: it was never going to be
    // reported, and the counters in stats() still hold it.
    for (const [peer, w] of windows) if (t - w.openedAt >= o.intervalMs) windows.delete(peer);
  };

  return {
    take(peer) {
      const t = now();
      let key = peer;
      if (!windows.has(key) && windows.size >= maxPeers) {
        prune(t);
        if (windows.size >= maxPeers) key = OVERFLOW_PEER;
      }
      const w = windows.get(key);
      if (!w || t - w.openedAt >= o.intervalMs) {
        windows.set(key, { openedAt: t, suppressed: 0 });
        return w?.suppressed ?? 0;
      }
      w.suppressed++;
      return undefined;
    },
  };
}
