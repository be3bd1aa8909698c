/**
 * The client side of a state watch (`WatchModelStates`, `WatchGpuStates`): copies one peer's
 * stream into a local store and keeps it there across breaks. The counterpart of `watch-stream.ts`;
 * model and GPU states share it so both follow the same rules:
 *
 * - When the stream breaks, the mirrored records are kept but marked unreachable (model:
 *   `health: 'unhealthy'`, GPU: `healthy: false`) rather than removed, so the router still knows
 *   them and routes around them. It reconnects with jittered exponential backoff.
 * - On reconnect the new snapshot replaces them: records not in it are removed.
 * - `clear()` (on stop) removes every record this mirror wrote, since nothing keeps them fresh.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../observability/log.ts';

/** One wire event, decoded. */
export type MirrorEvent<T> = { type: 'upsert' | 'remove'; state: T } | { type: 'done'; nodeId: string };

/** The local store as a mirror writes it. */
export interface MirrorTarget<T> {
  key(state: T): string;
  upsert(state: T): void;
  remove(state: T): void;
  /** The record as it should read while its peer is unreachable; undefined when it already does. */
  unreachable(state: T): T | undefined;
}

/** Options of `createStreamMirror`. */
export interface StreamMirrorOptions<T, E> {
  /** What is mirrored, for log lines: `state`, `GPU state`. */
  what: string;
  url: string;
  logger?: Logger;
  /** Opens the watch; ends or throws when the stream breaks. */
  watch(signal: AbortSignal): AsyncIterable<E>;
  /** Wire → domain; may throw for a record this node cannot read, which is then skipped. */
  decode(event: E): MirrorEvent<T> | undefined;
  target: MirrorTarget<T>;
  /** First reconnect delay; doubles per failed attempt up to `maxReconnectMs`. */
  reconnectMs: number;
  maxReconnectMs: number;
}

/** One stream mirrored into one store. */
export interface StreamMirror {
  /** Watches until `signal` aborts, reconnecting after every break. */
  run(signal: AbortSignal): Promise<void>;
  /** True between a complete snapshot and the next break of the stream. */
  connected(): boolean;
  /** The node id the peer announced in its last snapshot, if any. */
  peerNodeId(): string | undefined;
  /** Removes every record this mirror wrote. */
  clear(): void;
}

/** Creates a mirror; nothing connects until `run()`. */
export function createStreamMirror<T, E>(options: StreamMirrorOptions<T, E>): StreamMirror {
  const { what, url, logger, target } = options;
  const maxReconnectMs = Math.max(options.maxReconnectMs, options.reconnectMs);
  /** What this mirror last wrote to the store, by record key. */
  const mirrored = new Map<string, T>();
  let isConnected = false;
  let peerId: string | undefined;

  const write = (state: T) => {
    mirrored.set(target.key(state), state);
    target.upsert(state);
  };
  const drop = (key: string) => {
    const state = mirrored.get(key);
    if (state === undefined) return;
    mirrored.delete(key);
    target.remove(state);
  };

  /** Applies one event; returns true when it completed the snapshot. */
  const apply = (event: MirrorEvent<T>, snapshotKeys: Set<string> | undefined): boolean => {
    if (event.type === 'done') {
      // Whatever we held that the new snapshot does not mention is gone on the peer.
      for (const key of [...mirrored.keys()]) if (!snapshotKeys?.has(key)) drop(key);
      peerId = event.nodeId || peerId;
      return true;
    }
    if (event.type === 'upsert') {
      write(event.state);
      snapshotKeys?.add(target.key(event.state));
    } else {
      drop(target.key(event.state));
    }
    return false;
  };

  const markUnreachable = () => {
    for (const state of [...mirrored.values()]) {
      const marked = target.unreachable(state);
      if (marked !== undefined) write(marked);
    }
  };

  async function watchOnce(signal: AbortSignal): Promise<boolean> {
    let snapshotKeys: Set<string> | undefined = new Set<string>();
    let gotSnapshot = false;
    try {
      for await (const raw of options.watch(signal)) {
        try {
          const event = options.decode(raw);
          if (event && apply(event, snapshotKeys)) {
            snapshotKeys = undefined;
            gotSnapshot = isConnected = true;
            logger?.info({ url, peer: peerId, records: mirrored.size }, `mirroring peer ${what}`);
          }
        } catch (err) {
          // One record we cannot read (e.g. a runtime kind from a newer peer) must not cut the stream.
          logger?.warn({ err, url }, `skipped a ${what} from peer`);
        }
      }
      if (!signal.aborted) logger?.warn({ url }, `peer ended the ${what} stream`);
    } catch (err) {
      if (!signal.aborted)
        logger?.warn({ url, err: (err as Error).message }, `${what} stream from peer failed`);
    }
    isConnected = false;
    return gotSnapshot;
  }

  return {
    async run(signal) {
      let delay = options.reconnectMs;
      while (!signal.aborted) {
        if (await watchOnce(signal)) delay = options.reconnectMs;
        if (signal.aborted) break;
        markUnreachable();
        // Jitter keeps many routers from reconnecting to a restarted peer in lockstep.
        const wait = delay * (0.8 + 0.4 * Math.random());
        await sleep(wait, undefined, { signal }).catch(() => undefined);
        delay = Math.min(delay * 2, maxReconnectMs);
      }
    },
    connected: () => isConnected,
    peerNodeId: () => peerId,
    clear() {
      for (const key of [...mirrored.keys()]) drop(key);
    },
  };
}
