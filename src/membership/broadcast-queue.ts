/**
 * Piggybacked dissemination: membership updates waiting to be sent, each at most `limit` times
 * (λ · ceil(log10(n + 1))). Every outgoing datagram (ping, ack, gossip) takes the least-sent
 * updates first, newest first among equals, as many as fit in the room left. A newer update about
 * the same member replaces the older one, which then counts as done. An update may name a member
 * it is useless to (a member's own `alive`): datagrams to that member skip it.
 */

export interface BroadcastQueue {
  /**
   * Queues an encoded message about member `key`, replacing any pending one for it. It is never
   * sent to `skipFor`; `onDone` runs once it is retired, replaced or cleared.
   */
  push(key: string, message: Uint8Array, options?: { skipFor?: string; onDone?: () => void }): void;
  /**
   * Takes messages whose total size fits `room` bytes for a datagram to member `to`, counts one
   * transmission of each, and drops those sent `limit` times. Returns them in send order.
   */
  take(room: number, limit: number, to?: string): Uint8Array[];
  /** Pending updates. */
  size(): number;
  /** Drops everything (each counts as done). */
  clear(): void;
}

interface Item {
  key: string;
  message: Uint8Array;
  transmits: number;
  order: number;
  skipFor: string | undefined;
  onDone: (() => void) | undefined;
}

export function createBroadcastQueue(): BroadcastQueue {
  const items = new Map<string, Item>();
  let order = 0;
  const finish = (it: Item) => {
    items.delete(it.key);
    it.onDone?.();
  };
  return {
    push(key, message, options = {}) {
      const old = items.get(key);
      if (old) finish(old);
      const { skipFor, onDone } = options;
      items.set(key, { key, message, transmits: 0, order: order++, skipFor, onDone });
    },
    take(room, limit, to) {
      if (items.size === 0 || room <= 0) return [];
      const sorted = [...items.values()].sort((a, b) => a.transmits - b.transmits || b.order - a.order);
      const out: Uint8Array[] = [];
      let left = room;
      for (const it of sorted) {
        if (it.message.byteLength > left || (to !== undefined && it.skipFor === to)) continue;
        left -= it.message.byteLength;
        out.push(it.message);
        if (++it.transmits >= limit) finish(it);
      }
      return out;
    },
    size: () => items.size,
    clear() {
      for (const it of [...items.values()]) finish(it);
    },
  };
}
