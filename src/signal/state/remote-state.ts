/**
 * A router's mirror of a peer's model states: opens `StatePlane.WatchModelStates` over gRPC to the
 * peer's API URL and copies every record into the local `StateStore`.
 *
 * When the stream breaks, the peer's records are kept but marked `health: 'unhealthy'` rather than
 * removed: the router then knows the model exists and answers 503 `no_healthy_endpoint` (retry
 * later) instead of 404 `model_not_found`, and the scoring filters skip those endpoints. On
 * reconnect the new snapshot replaces them: records not in it are removed. `stop()` removes every
 * record this subscriber wrote, since nothing will keep them fresh any more.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import type { ModelState } from '../../core/types.ts';
import { StatePlane, type ModelStateEvent } from '../../gen/infermesh/state/v1/state_pb.ts';
import type { Logger } from '../../observability/log.ts';
import { modelStateFromProto } from './model-state-proto.ts';
import type { StateStore } from './state-store.ts';

/** Options of `createRemoteStateSubscriber`. */
export interface RemoteStateSubscriberOptions {
  /** The peer's API URL, e.g. `http://127.0.0.1:50061`. */
  url: string;
  /** The local store the peer's records are mirrored into. */
  store: StateStore;
  logger?: Logger;
  /** First reconnect delay; doubles per failed attempt up to `maxReconnectMs`. Default 250. */
  reconnectMs?: number;
  /** Cap of the reconnect delay. Default 5000. */
  maxReconnectMs?: number;
  /** HTTP/2 PING interval that detects a silently dead peer. Default 10000. */
  pingIntervalMs?: number;
}

/** A running (or stopped) mirror of one peer. */
export interface RemoteStateSubscriber {
  /** Starts the watch loop in the background; returns at once. */
  start(): void;
  /** Ends the stream, stops reconnecting and removes the mirrored records. */
  stop(): Promise<void>;
  /** True between a complete snapshot and the next break of the stream. */
  connected(): boolean;
  /** The node id the peer announced in its last snapshot, if any. */
  peerNodeId(): string | undefined;
}

const keyOf = (s: ModelState) => `${s.endpointId}\u0000${s.model}`;

/** Creates a subscriber; nothing connects until `start()`. */
export function createRemoteStateSubscriber(options: RemoteStateSubscriberOptions): RemoteStateSubscriber {
  const { url, store, logger } = options;
  const reconnectMs = options.reconnectMs ?? 250;
  const maxReconnectMs = Math.max(options.maxReconnectMs ?? 5000, reconnectMs);
  const pingIntervalMs = options.pingIntervalMs ?? 10_000;
  // Our own session manager, so stop() can close the connection and let the process exit.
  const sessions = new Http2SessionManager(url, {
    pingIntervalMs,
    pingTimeoutMs: Math.min(pingIntervalMs, 5000),
  });
  const client = createClient(StatePlane, createGrpcTransport({ baseUrl: url, sessionManager: sessions }));

  /** What this subscriber last wrote to the store, by record key. */
  const mirrored = new Map<string, ModelState>();
  const stopping = new AbortController();
  let loop: Promise<void> | undefined;
  let isConnected = false;
  let peerId: string | undefined;

  const write = (state: ModelState) => {
    mirrored.set(keyOf(state), state);
    store.upsert(state);
  };
  const drop = (key: string) => {
    const state = mirrored.get(key);
    if (!state) return;
    mirrored.delete(key);
    store.remove(state.endpointId, state.model);
  };

  /** Applies one event; returns true when it completed the snapshot. */
  const apply = (event: ModelStateEvent, snapshotKeys: Set<string> | undefined): boolean => {
    const { event: e } = event;
    if (e.case === 'snapshotDone') {
      // Whatever we held that the new snapshot does not mention is gone on the peer.
      for (const key of [...mirrored.keys()]) if (!snapshotKeys?.has(key)) drop(key);
      peerId = e.value.nodeId || peerId;
      return true;
    }
    if (e.case === 'upsert') {
      const state = modelStateFromProto(e.value);
      write(state);
      snapshotKeys?.add(keyOf(state));
    } else if (e.case === 'remove') {
      drop(keyOf(modelStateFromProto(e.value)));
    }
    return false;
  };

  const markUnhealthy = () => {
    for (const state of [...mirrored.values()])
      if (state.health !== 'unhealthy') write({ ...state, health: 'unhealthy' });
  };

  async function watchOnce(): Promise<boolean> {
    let snapshotKeys: Set<string> | undefined = new Set<string>();
    let gotSnapshot = false;
    try {
      for await (const event of client.watchModelStates({}, { signal: stopping.signal })) {
        try {
          if (apply(event, snapshotKeys)) {
            snapshotKeys = undefined;
            gotSnapshot = isConnected = true;
            logger?.info({ url, peer: peerId, records: mirrored.size }, 'mirroring peer state');
          }
        } catch (err) {
          // One record we cannot read (e.g. a runtime kind from a newer peer) must not cut the stream.
          logger?.warn({ err, url }, 'skipped a model state from peer');
        }
      }
      if (!stopping.signal.aborted) logger?.warn({ url }, 'peer ended the state stream');
    } catch (err) {
      if (!stopping.signal.aborted)
        logger?.warn({ url, err: (err as Error).message }, 'state stream from peer failed');
    }
    isConnected = false;
    return gotSnapshot;
  }

  async function run(): Promise<void> {
    let delay = reconnectMs;
    while (!stopping.signal.aborted) {
      if (await watchOnce()) delay = reconnectMs;
      if (stopping.signal.aborted) break;
      markUnhealthy();
      // Jitter keeps many routers from reconnecting to a restarted peer in lockstep.
      const wait = delay * (0.8 + 0.4 * Math.random());
      await sleep(wait, undefined, { signal: stopping.signal }).catch(() => undefined);
      delay = Math.min(delay * 2, maxReconnectMs);
    }
  }

  return {
    start() {
      loop ??= run();
    },
    async stop() {
      stopping.abort();
      await loop;
      sessions.abort();
      for (const key of [...mirrored.keys()]) drop(key);
    },
    connected: () => isConnected,
    peerNodeId: () => peerId,
  };
}
