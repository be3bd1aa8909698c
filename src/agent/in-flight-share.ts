/**
 * A router's link to one GPU node for sharing its routing (`StatePlane.ShareInFlight`): every
 * `intervalMs` it sends the node this router's routing events on that node's endpoints since the
 * last report (requests sent, requests ended; at least one report every `heartbeatMs`, so the
 * node's TTL does not drop it), and counts the other routers' events the node relays back
 * (src/scoring/route-relay.ts says what is relayed and why). The link reconnects with backoff;
 * while it is down the others' open requests are ended (the scrape covers them). Started next to
 * each peer's state subscriber (`router.shareInFlight`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import type { SecureClientSessionOptions } from 'node:http2';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import type { LinkTls } from '../security/pki/link-tls.ts';
import {
  InFlightReportSchema,
  RouteEvent_Kind,
  StatePlane,
  type InFlightReport,
  type RouteEvent,
} from '../gen/infermesh/state/v1/state_pb.js';
import type { MeshConfig } from '../core/config.ts';
import type { Logger } from '../observability/log.ts';
import type { ScoringEngine } from '../scoring/engine.ts';
import { createRouteRelay, type RelayedEvent, type RouteRelay } from '../scoring/route-relay.ts';
import type { PeerCompanion } from './peer-set.ts';

export interface InFlightShareDeps {
  /** The node's engine (the main thread's replica, with worker threads): read for ours, written with theirs. */
  engine: ScoringEngine;
  /** This router's node id (`node.id`), unique among the routers. */
  routerId: string;
  logger?: Logger;
  /** How often our new events are sent. Default 20 ms. */
  intervalMs?: number;
  /** Longest time between two reports, events or not. Default 1000 ms. */
  heartbeatMs?: number;
  /** First reconnect delay, doubled per failure up to 5 s. Default 250 ms. */
  reconnectMs?: number;
  /** TLS of an https:// peer URL: the node certificate to present and how to check the peer's. */
  connectOptions?: SecureClientSessionOptions;
}

export interface InFlightShare {
  /** True while the stream to the node is open and the node has answered. */
  connected(): boolean;
  stop(): Promise<void>;
}

/** A queue of reports as the request stream of one call (every report, in order: each carries new events). */
function reportQueue(signal: AbortSignal) {
  const items: InFlightReport[] = [];
  let wake: (() => void) | undefined;
  signal.addEventListener('abort', () => wake?.(), { once: true });
  return {
    push(r: InFlightReport) {
      items.push(r);
      wake?.();
    },
    async *stream(): AsyncGenerator<InFlightReport> {
      while (!signal.aborted) {
        const next = items.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
  };
}

function toProto(e: RelayedEvent) {
  const head = { request: BigInt(e.request), endpointId: e.endpointId, model: e.model };
  if (e.kind === 'routed')
    return {
      ...head,
      kind: RouteEvent_Kind.ROUTED,
      promptTokens: e.promptTokens,
      maxTokens: e.maxTokens,
      blockHashes: Array.from(e.blockHashes),
    };
  if (e.kind === 'first') return { ...head, kind: RouteEvent_Kind.FIRST, ttftMs: e.ttftMs };
  return { ...head, kind: RouteEvent_Kind.FINISHED, ok: e.ok };
}

function fromProto(e: RouteEvent): RelayedEvent | undefined {
  const head = { request: Number(e.request), endpointId: e.endpointId, model: e.model };
  switch (e.kind) {
    case RouteEvent_Kind.ROUTED:
      return {
        ...head,
        kind: 'routed',
        promptTokens: e.promptTokens,
        maxTokens: e.maxTokens,
        blockHashes: e.blockHashes,
      };
    case RouteEvent_Kind.FIRST:
      return { ...head, kind: 'first', ttftMs: e.ttftMs };
    case RouteEvent_Kind.FINISHED:
      return { ...head, kind: 'finished', ok: e.ok };
    default:
      return undefined; // a kind from a newer router: skipped
  }
}

/** Starts sharing with the GPU node whose API is at `peerUrl`; runs until `stop()`. */
export function startInFlightShare(peerUrl: string, deps: InFlightShareDeps): InFlightShare {
  const { engine, routerId, logger } = deps;
  const intervalMs = deps.intervalMs ?? 20;
  const heartbeatMs = deps.heartbeatMs ?? 1000;
  const reconnectMs = deps.reconnectMs ?? 250;
  const sessions = new Http2SessionManager(
    peerUrl,
    { pingIntervalMs: 10_000, pingTimeoutMs: 5000 },
    deps.connectOptions,
  );
  const client = createClient(
    StatePlane,
    createGrpcTransport({ baseUrl: peerUrl, sessionManager: sessions }),
  );
  const stopping = new AbortController();
  let isConnected = false;

  async function once(): Promise<boolean> {
    const call = new AbortController();
    const onStop = () => call.abort();
    stopping.signal.addEventListener('abort', onStop, { once: true });
    const queue = reportQueue(call.signal);
    let relay: RouteRelay | undefined;
    let lastAt = 0;
    const send = (events: RelayedEvent[]) => {
      lastAt = performance.now();
      queue.push(create(InFlightReportSchema, { routerId, events: events.map(toProto) }));
    };
    send([]); // announces us; the node's first answer names it
    const timer = setInterval(() => {
      if (!relay) return;
      const events = relay.take();
      if (events.length > 0 || performance.now() - lastAt >= heartbeatMs) send(events);
    }, intervalMs);
    let answered = false;
    try {
      for await (const share of client.shareInFlight(queue.stream(), { signal: call.signal })) {
        if (!answered)
          logger?.info({ url: peerUrl, node: share.nodeId }, 'relaying routing through the node');
        answered = isConnected = true;
        // Our events are the ones on this node's endpoints: known once the node has named itself.
        relay ??= createRouteRelay(engine, share.nodeId);
        for (const r of share.routers)
          relay.apply(
            r.routerId,
            r.events.map(fromProto).filter((e) => e !== undefined),
          );
        relay.live(share.liveRouters);
      }
    } catch (err) {
      if (!stopping.signal.aborted)
        logger?.warn({ url: peerUrl, err: (err as Error).message }, 'in-flight share stream failed');
    } finally {
      clearInterval(timer);
      call.abort();
      stopping.signal.removeEventListener('abort', onStop);
      isConnected = false;
      relay?.close();
    }
    return answered;
  }

  const loop = (async () => {
    let delay = reconnectMs;
    while (!stopping.signal.aborted) {
      if (await once()) delay = reconnectMs;
      if (stopping.signal.aborted) break;
      await sleep(delay * (0.8 + 0.4 * Math.random()), undefined, { signal: stopping.signal }).catch(
        () => undefined,
      );
      delay = Math.min(delay * 2, 5000);
    }
  })();

  return {
    connected: () => isConnected,
    async stop() {
      stopping.abort();
      await loop;
      sessions.abort();
    },
  };
}

/**
 * The companion (`peer-set.ts`) that relays routing through every followed GPU node, or none
 * when `router.shareInFlight` is off: meshd passes it in `peerCompanions`.
 */
export function inFlightShareCompanions(
  config: Pick<MeshConfig, 'node' | 'router'>,
  deps: { engine: ScoringEngine; logger: Logger; linkTls?: LinkTls | undefined },
): PeerCompanion[] {
  if (!config.router.shareInFlight) return [];
  return [
    (peer) =>
      startInFlightShare(peer.url, {
        engine: deps.engine,
        routerId: config.node.id,
        logger: deps.logger.child({ component: 'in-flight-share', peer: peer.id ?? peer.url }),
        ...(deps.linkTls ? { connectOptions: deps.linkTls.clientOptions(peer.id) } : {}),
      }),
  ];
}
