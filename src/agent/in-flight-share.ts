/**
 * A router's link to one GPU node for sharing in-flight work (`StatePlane.ShareInFlight`): every
 * `intervalMs` it reads this router's load on that node's endpoints from the engine and, when it
 * changed (or `heartbeatMs` passed, so the node's TTL does not expire it), streams it to the node;
 * every share the node streams back (the other routers' reports) goes into the engine through the
 * peer-load tracker (src/scoring/peer-load.ts says what is shared and why). The link reconnects
 * with backoff; while it is down the others' levels are forgotten (their queued work drains by
 * itself). Started next to each peer's state subscriber (`router.shareInFlight`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import type { SecureClientSessionOptions } from 'node:http2';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import type { LinkTls } from '../security/pki/link-tls.ts';
import { InFlightReportSchema, StatePlane, type InFlightReport } from '../gen/infermesh/state/v1/state_pb.js';
import type { MeshConfig } from '../core/config.ts';
import type { Logger } from '../observability/log.ts';
import type { ScoringEngine } from '../scoring/engine.ts';
import { createPeerLoadTracker, type EndpointLoadReport } from '../scoring/peer-load.ts';
import type { PeerCompanion } from './peer-set.ts';

export interface InFlightShareDeps {
  /** The node's engine (the main thread's replica, with worker threads): read for ours, written with theirs. */
  engine: ScoringEngine;
  /** This router's node id (`node.id`), unique among the routers. */
  routerId: string;
  logger?: Logger;
  /** How often our load is read and, when changed, sent. Default 20 ms. */
  intervalMs?: number;
  /** Longest time between two reports, changed or not. Default 1000 ms. */
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

/** A queue of reports as the request stream of one call. */
function reportQueue(signal: AbortSignal) {
  const items: InFlightReport[] = [];
  let wake: (() => void) | undefined;
  signal.addEventListener('abort', () => wake?.(), { once: true });
  return {
    push(r: InFlightReport) {
      // Only the newest matters: a report replaces the router's previous one.
      items.length = 0;
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

const sameReport = (a: readonly EndpointLoadReport[], b: readonly EndpointLoadReport[]) =>
  a.length === b.length &&
  a.every((x, i) => {
    const y = b[i]!;
    return (
      x.endpointId === y.endpointId &&
      x.model === y.model &&
      x.inFlight === y.inFlight &&
      x.inFlightTokens === y.inFlightTokens &&
      x.sentRequests === y.sentRequests &&
      x.sentWork === y.sentWork
    );
  });

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
  const tracker = createPeerLoadTracker(engine, routerId);
  const stopping = new AbortController();
  let isConnected = false;

  async function once(): Promise<boolean> {
    const call = new AbortController();
    const onStop = () => call.abort();
    stopping.signal.addEventListener('abort', onStop, { once: true });
    const queue = reportQueue(call.signal);
    let nodeId = '';
    let last: EndpointLoadReport[] = [];
    let lastAt = 0;
    const send = (endpoints: EndpointLoadReport[]) => {
      last = endpoints;
      lastAt = performance.now();
      queue.push(create(InFlightReportSchema, { routerId, endpoints }));
    };
    send([]); // announces us; the node's first answer names it
    const timer = setInterval(() => {
      if (!nodeId) return;
      const now = tracker.ownReport(nodeId);
      if (!sameReport(now, last) || performance.now() - lastAt >= heartbeatMs) send(now);
    }, intervalMs);
    let answered = false;
    try {
      for await (const share of client.shareInFlight(queue.stream(), { signal: call.signal })) {
        if (!answered) logger?.info({ url: peerUrl, node: share.nodeId }, 'sharing in-flight work');
        answered = isConnected = true;
        nodeId = share.nodeId || nodeId;
        tracker.apply(share.routers);
      }
    } catch (err) {
      if (!stopping.signal.aborted)
        logger?.warn({ url: peerUrl, err: (err as Error).message }, 'in-flight share stream failed');
    } finally {
      clearInterval(timer);
      call.abort();
      stopping.signal.removeEventListener('abort', onStop);
      isConnected = false;
      tracker.clear();
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
 * The companion (`peer-set.ts`) that shares in-flight work with every followed GPU node, or none
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
