/**
 * A router's copy of one gpu node's precise prefix state: opens `StatePlane.WatchPrefixBlocks` on
 * the peer's API URL and applies every update to a sink (the router's precise prefix index,
 * `engine.precisePrefix`). The same shape as `createRemoteStateSubscriber`: start/stop/connected.
 *
 * When the stream breaks, the peer's sets are kept (they age gracefully: a block the router still
 * believes cached costs at most a cache miss) and replaced by the new snapshot on reconnect;
 * endpoints missing from that snapshot are dropped. `stop()` drops every set it wrote.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@connectrpc/connect';
import type { SecureClientSessionOptions } from 'node:http2';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { StatePlane } from '../../gen/infermesh/state/v1/state_pb.js';
import type { Logger } from '../../observability/log.ts';
import type { PrefixBlocksSink } from './prefix-blocks.ts';

export interface RemotePrefixBlocksOptions {
  /** The peer's API URL, e.g. `http://127.0.0.1:50061`. */
  url: string;
  sink: PrefixBlocksSink;
  logger?: Logger;
  /** First reconnect delay; doubles per failed attempt up to `maxReconnectMs`. Default 250. */
  reconnectMs?: number;
  maxReconnectMs?: number;
  /** HTTP/2 PING interval that detects a silently dead peer. Default 10000. */
  pingIntervalMs?: number;
  /** TLS of an https:// URL: the node certificate to present and how to check the peer's. */
  connectOptions?: SecureClientSessionOptions;
}

export interface RemotePrefixBlocksSubscriber {
  start(): void;
  stop(): Promise<void>;
  /** True between a complete snapshot and the next break of the stream. */
  connected(): boolean;
  /** Endpoints whose sets this subscriber holds. */
  endpoints(): string[];
}

export function createRemotePrefixBlocksSubscriber(
  options: RemotePrefixBlocksOptions,
): RemotePrefixBlocksSubscriber {
  const { url, sink, logger } = options;
  const reconnectMs = options.reconnectMs ?? 250;
  const maxReconnectMs = Math.max(options.maxReconnectMs ?? 5000, reconnectMs);
  const pingIntervalMs = options.pingIntervalMs ?? 10_000;
  const sessions = new Http2SessionManager(
    url,
    { pingIntervalMs, pingTimeoutMs: Math.min(pingIntervalMs, 5000) },
    options.connectOptions,
  );
  const client = createClient(StatePlane, createGrpcTransport({ baseUrl: url, sessionManager: sessions }));
  const held = new Map<string, number>(); // endpoint → block size
  const stopping = new AbortController();
  let isConnected = false;
  let loop: Promise<void> | undefined;

  const gone = (endpointId: string) => {
    const blockSize = held.get(endpointId) ?? 0;
    held.delete(endpointId);
    sink.apply({ endpointId, blockSize, reset: true, added: [], removed: [], rebuilding: false, gone: true });
  };

  async function watchOnce(signal: AbortSignal): Promise<boolean> {
    let snapshot: Set<string> | undefined = new Set();
    let got = false;
    try {
      for await (const ev of client.watchPrefixBlocks({}, { signal })) {
        const e = ev.event;
        if (e.case === 'snapshotDone') {
          for (const id of [...held.keys()]) if (!snapshot?.has(id)) gone(id);
          snapshot = undefined;
          got = isConnected = true;
          logger?.info({ url, endpoints: held.size }, 'mirroring peer prefix blocks');
        } else if (e.case === 'update') {
          const u = e.value;
          if (u.gone) {
            gone(u.endpointId);
            continue;
          }
          snapshot?.add(u.endpointId);
          held.set(u.endpointId, u.blockSize);
          sink.apply({
            endpointId: u.endpointId,
            blockSize: u.blockSize,
            reset: u.reset,
            added: u.added,
            removed: u.removed,
            rebuilding: u.rebuilding,
          });
        }
      }
    } catch (err) {
      if (!signal.aborted) logger?.warn({ url, err: (err as Error).message }, 'prefix block stream failed');
    }
    isConnected = false;
    return got;
  }

  async function run(signal: AbortSignal): Promise<void> {
    let delay = reconnectMs;
    while (!signal.aborted) {
      if (await watchOnce(signal)) delay = reconnectMs;
      if (signal.aborted) break;
      await sleep(delay * (0.8 + 0.4 * Math.random()), undefined, { signal }).catch(() => undefined);
      delay = Math.min(delay * 2, maxReconnectMs);
    }
  }

  return {
    start() {
      loop ??= run(stopping.signal);
    },
    async stop() {
      stopping.abort();
      await loop;
      sessions.abort();
      for (const id of [...held.keys()]) gone(id);
    },
    connected: () => isConnected,
    endpoints: () => [...held.keys()],
  };
}
