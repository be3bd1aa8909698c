/**
 * The dashboard's one source: builds the fleet snapshot and a chart point every `intervalMs` and
 * pushes them, the router's decisions (batched every `DECISION_FLUSH_MS`) and the control events to
 * every connected viewer. Nothing runs before the first viewer: then the router starts recording
 * decisions (only while someone is connected), and the sampler and the event follower start and
 * keep running, so a viewer who comes back finds the last minutes of charts and events.
 */
import type { DecisionRecord } from '../../core/decision-record.ts';
import type { Logger } from '../log.ts';
import type { DecisionRing } from './decision-ring.ts';
import type { SeriesSampler } from './series.ts';
import { buildFleetSnapshot, type FleetSources } from './snapshot.ts';
import type { ControlEventRow, FleetSnapshot, StreamFleet, StreamHello } from './types.ts';

/** One viewer's connection; `send` returns false when the viewer cannot keep up (it is then dropped). */
export interface StreamClient {
  send(event: string, data: unknown): boolean;
  close(): void;
}

export interface FleetHubOptions {
  sources: FleetSources;
  decisions: DecisionRing;
  sampler: SeriesSampler;
  /**
   * Follows the control events: calls `onEvent` with the recent history, then each new one, until
   * `signal` aborts; rejects when the store fails (followed again after a pause).
   */
  followEvents?: (onEvent: (event: ControlEventRow) => void, signal: AbortSignal) => Promise<void>;
  version: string;
  intervalMs?: number;
  logger?: Logger;
}

export interface FleetHub {
  /** Adds a viewer (its `hello` is sent at once); returns the function that removes it. */
  connect(client: StreamClient): () => void;
  /** Viewers connected now. */
  viewers(): number;
  snapshot(): FleetSnapshot;
  stop(): void;
}

/** Control events kept for a new viewer. */
const EVENTS_KEPT = 100;
const DECISION_FLUSH_MS = 250;
const EVENTS_RETRY_MS = 2000;

export function createFleetHub(options: FleetHubOptions): FleetHub {
  const intervalMs = options.intervalMs ?? 1000;
  const { decisions, sampler } = options;
  const clients = new Set<StreamClient>();
  const events: ControlEventRow[] = [];
  const pending = new Map<string, DecisionRecord>();
  let ticker: NodeJS.Timeout | undefined;
  let flusher: NodeJS.Timeout | undefined;
  let following: AbortController | undefined;
  let ticking = false;
  let stopped = false;

  const broadcast = (event: string, data: unknown) => {
    for (const c of clients) {
      if (!c.send(event, data)) {
        clients.delete(c);
        c.close();
      }
    }
    decisions.setWatching(clients.size > 0);
  };

  const tick = async () => {
    if (ticking) return; // a slow read (a worker's metrics) skips a beat rather than piling up
    ticking = true;
    try {
      const fleet = buildFleetSnapshot(options.sources);
      const point = await sampler.sample(fleet.endpoints);
      if (clients.size > 0) broadcast('fleet', { fleet, point } satisfies StreamFleet);
    } catch (err) {
      options.logger?.warn({ err }, 'dashboard tick failed');
    } finally {
      ticking = false;
    }
  };

  decisions.onChange((record) => {
    if (clients.size === 0) return;
    pending.set(record.id, record);
    flusher ??= setTimeout(() => {
      flusher = undefined;
      const batch = [...pending.values()];
      pending.clear();
      if (batch.length > 0) broadcast('decisions', batch);
    }, DECISION_FLUSH_MS).unref();
  });

  const followEvents = () => {
    if (!options.followEvents || following || stopped) return;
    const abort = (following = new AbortController());
    const onEvent = (e: ControlEventRow) => {
      if (events.some((x) => x.revision === e.revision)) return;
      events.push(e);
      while (events.length > EVENTS_KEPT) events.shift();
      if (clients.size > 0) broadcast('control', e);
    };
    options.followEvents(onEvent, abort.signal).then(
      () => undefined,
      (err: unknown) => {
        if (abort.signal.aborted) return;
        options.logger?.warn({ err }, 'dashboard: control events unavailable; following again shortly');
        setTimeout(() => {
          following = undefined;
          followEvents();
        }, EVENTS_RETRY_MS).unref();
      },
    );
  };

  const start = () => {
    if (ticker || stopped) return;
    ticker = setInterval(() => void tick(), intervalMs).unref();
    followEvents();
  };

  return {
    connect(client) {
      start();
      const fleet = buildFleetSnapshot(options.sources);
      const hello: StreamHello = {
        node: options.sources.node,
        version: options.version,
        intervalMs,
        fleet,
        series: sampler.history(),
        decisions: decisions.list(),
        events: [...events],
      };
      if (!client.send('hello', hello)) {
        client.close();
        return () => undefined;
      }
      clients.add(client);
      decisions.setWatching(true);
      return () => {
        clients.delete(client);
        decisions.setWatching(clients.size > 0);
      };
    },
    viewers: () => clients.size,
    snapshot: () => buildFleetSnapshot(options.sources),
    stop() {
      stopped = true;
      clearInterval(ticker);
      clearTimeout(flusher);
      following?.abort();
      for (const c of clients) c.close();
      clients.clear();
      decisions.setWatching(false);
    },
  };
}
