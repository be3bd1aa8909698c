/** The network cost table between zones, from config: symmetric RTT plus transfer time at a bandwidth. */

export interface ZoneLink {
  from: string;
  to: string;
  rttMs: number;
  bandwidthMbps?: number;
}

export interface ZoneTable {
  /** ms to move `payloadBytes` from zone `from` to zone `to`; 0 for the same or an unknown pair. */
  costMs(from: string | undefined, to: string, payloadBytes: number): number;
}

export function createZoneTable(links: readonly ZoneLink[]): ZoneTable {
  const table = new Map<string, ZoneLink>();
  for (const l of links) {
    table.set(`${l.from}\u0000${l.to}`, l);
    table.set(`${l.to}\u0000${l.from}`, l);
  }
  return {
    costMs(from, to, payloadBytes) {
      if (!from || !to || from === to || table.size === 0) return 0;
      const l = table.get(`${from}\u0000${to}`);
      if (!l) return 0;
      const transfer = l.bandwidthMbps ? (payloadBytes * 8) / (l.bandwidthMbps * 1000) : 0;
      return l.rttMs + transfer;
    },
  };
}
