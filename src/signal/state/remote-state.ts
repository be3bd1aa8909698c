/**
 * A router's mirror of a peer's state: opens `StatePlane.WatchModelStates` (and, given a GPU
 * store, `WatchGpuStates`) over one gRPC connection to the peer's API URL and copies every record
 * into the local stores. The GPU states are what lets a router on another node keep traffic off a
 * quarantined or lost GPU (`createEndpointGpuGate`).
 *
 * Both streams follow `stream-mirror.ts`: when a stream breaks, the peer's records are kept but
 * marked unreachable (model: `health: 'unhealthy'`, GPU: `healthy: false`) rather than removed:
 * the router then knows the model exists and answers 503 `no_healthy_endpoint` (retry later)
 * instead of 404 `model_not_found`, and the scoring filters skip those endpoints. On reconnect
 * the new snapshot replaces them. `stop()` removes every record this subscriber wrote.
 */
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import type { SecureClientSessionOptions } from 'node:http2';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import type { GpuState } from '../../core/gpu.ts';
import type { ModelState } from '../../core/types.ts';
import {
  StatePlane,
  type GpuStateEvent,
  type ModelStateEvent,
} from '../../gen/infermesh/state/v1/state_pb.js';
import type { Logger } from '../../observability/log.ts';
import { gpuStateFromProto } from './gpu-state-proto.ts';
import type { GpuStore } from './gpu-store.ts';
import { modelStateFromProto } from './model-state-proto.ts';
import type { StateStore } from './state-store.ts';
import { createStreamMirror, type MirrorEvent, type StreamMirror } from './stream-mirror.ts';

/** Options of `createRemoteStateSubscriber`. */
export interface RemoteStateSubscriberOptions {
  /** The peer's API URL, e.g. `http://127.0.0.1:50061`. */
  url: string;
  /** The local store the peer's model states are mirrored into. */
  store: StateStore;
  /** The local store the peer's GPU states are mirrored into; without it they are not watched. */
  gpus?: GpuStore;
  logger?: Logger;
  /** First reconnect delay; doubles per failed attempt up to `maxReconnectMs`. Default 250. */
  reconnectMs?: number;
  /** Cap of the reconnect delay. Default 5000. */
  maxReconnectMs?: number;
  /** HTTP/2 PING interval that detects a silently dead peer. Default 10000. */
  pingIntervalMs?: number;
  /** TLS of an https:// URL: the node certificate to present and how to check the peer's. */
  connectOptions?: SecureClientSessionOptions;
}

/** A running (or stopped) mirror of one peer. */
export interface RemoteStateSubscriber {
  /** Starts the watch loops in the background; returns at once. */
  start(): void;
  /** Ends the streams, stops reconnecting and removes the mirrored records. */
  stop(): Promise<void>;
  /** True between a complete model state snapshot and the next break of that stream. */
  connected(): boolean;
  /** The node id the peer announced in its last snapshot, if any. */
  peerNodeId(): string | undefined;
  /**
   * Drops the connection and dials again now (when gossip says the peer died or came back): the
   * records read unreachable until a new snapshot arrives, so a peer that is really gone leaves
   * routing at once instead of after the HTTP/2 ping timeout.
   */
  recheck(): void;
}

/** Wire event → mirror event; the same shape for both kinds of state. */
function decoder<P, T>(fromProto: (pb: P) => T) {
  return (event: {
    event:
      | { case: 'upsert' | 'remove'; value: P }
      | { case: 'snapshotDone'; value: { nodeId: string } }
      | { case: undefined };
  }): MirrorEvent<T> | undefined => {
    const e = event.event;
    if (e.case === 'snapshotDone') return { type: 'done', nodeId: e.value.nodeId };
    if (e.case === undefined) return undefined;
    return { type: e.case, state: fromProto(e.value) };
  };
}

/** Creates a subscriber; nothing connects until `start()`. */
export function createRemoteStateSubscriber(options: RemoteStateSubscriberOptions): RemoteStateSubscriber {
  const { url, store, gpus, logger } = options;
  const pingIntervalMs = options.pingIntervalMs ?? 10_000;
  // Our own session manager, so stop() can close the connection and let the process exit.
  const sessions = new Http2SessionManager(
    url,
    { pingIntervalMs, pingTimeoutMs: Math.min(pingIntervalMs, 5000) },
    options.connectOptions,
  );
  const client = createClient(StatePlane, createGrpcTransport({ baseUrl: url, sessionManager: sessions }));
  const common = {
    url,
    logger,
    reconnectMs: options.reconnectMs ?? 250,
    maxReconnectMs: options.maxReconnectMs ?? 5000,
  };

  const models = createStreamMirror<ModelState, ModelStateEvent>({
    ...common,
    what: 'model state',
    watch: (signal) => client.watchModelStates({}, { signal }),
    decode: decoder(modelStateFromProto),
    target: {
      key: (s) => `${s.endpointId}\u0000${s.model}`,
      upsert: (s) => store.upsert(s),
      remove: (s) => void store.remove(s.endpointId, s.model),
      unreachable: (s) => (s.health === 'unhealthy' ? undefined : { ...s, health: 'unhealthy' }),
    },
  });
  const mirrors: StreamMirror[] = [models];
  if (gpus) {
    mirrors.push(
      createStreamMirror<GpuState, GpuStateEvent>({
        ...common,
        what: 'GPU state',
        watch: (signal) => client.watchGpuStates({}, { signal }),
        decode: decoder(gpuStateFromProto),
        target: {
          key: (g) => `${g.node}\u0000${g.uuid}`,
          upsert: (g) => gpus.upsert(g),
          remove: (g) => void gpus.remove(g.node, g.uuid),
          // A GPU we cannot hear from is not trusted with traffic, like its endpoints.
          unreachable: (g) => (g.healthy ? { ...g, healthy: false } : undefined),
        },
      }),
    );
  }

  const stopping = new AbortController();
  let loops: Promise<unknown> | undefined;
  return {
    start() {
      loops ??= Promise.all(mirrors.map((m) => m.run(stopping.signal)));
    },
    async stop() {
      stopping.abort();
      await loops;
      sessions.abort();
      for (const m of mirrors) m.clear();
    },
    connected: () => models.connected(),
    peerNodeId: () => models.peerNodeId(),
    recheck: () => sessions.abort(new ConnectError('gossip asked for a recheck', Code.Unavailable)),
  };
}
