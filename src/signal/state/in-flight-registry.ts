/**
 * The GPU node's side of `StatePlane.ShareInFlight`: a relay of routing events between the routers
 * that send traffic to this node's endpoints. Each router's stream brings its events (requests it
 * sent here and their ends); the node hands them, in the order received, to every other router's
 * stream, with the list of routers it hears from. A router is dropped when its stream ends or when
 * it does not report within the TTL (a router that stopped without closing its stream, a half-open
 * connection); the others then end its open requests. The node does not interpret the events:
 * routers count them (`src/scoring/route-relay.ts`).
 */
import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import {
  InFlightShareSchema,
  RouterEventsSchema,
  type InFlightReport,
  type InFlightShare,
  type RouteEvent,
  type RouterEvents,
} from '../../gen/infermesh/state/v1/state_pb.js';
import type { Logger } from '../../observability/log.ts';

export interface InFlightRegistryOptions {
  /** Routers that do not report within this are dropped (ms). Default 3000 (reporters send every second). */
  ttlMs?: number;
  /** Clock in ms. Default `Date.now`. */
  now?: () => number;
}

/** One router stream's view of the relay. */
export interface RelayMember {
  /** This router's events, handed to every other member; also renews it (rejoins it, expired). */
  report(events: RouteEvent[]): void;
  /** Events of the other routers since the last call, in the order the node received them. */
  take(): RouterEvents[];
  /** Every other router the node hears from now. */
  others(): string[];
  /** Called after every change that concerns this member (events for it, a router joined or left). */
  onChange(listener: () => void): void;
  /** Leaves the relay (the stream ended). */
  leave(): void;
}

export interface InFlightRegistry {
  readonly ttlMs: number;
  /** Joins `routerId`'s stream to the relay (a second stream of the same router replaces the first). */
  join(routerId: string): RelayMember;
  /** Drops routers not heard from within the TTL (also done on a timer); returns whether any was. */
  expire(): boolean;
  /** Stops the expiry timer. */
  close(): void;
}

interface Member {
  routerId: string;
  heardAt: number;
  inbox: RouterEvents[];
  listener: (() => void) | undefined;
  /** Left, or replaced by a newer stream of the same router: its reports are ignored. */
  gone: boolean;
}

/** Batches waiting per member at most (a stalled reader loses the oldest, not the node's memory). */
const MAX_INBOX = 10_000;

export function createInFlightRegistry(options: InFlightRegistryOptions = {}): InFlightRegistry {
  const ttlMs = options.ttlMs ?? 3000;
  const now = options.now ?? Date.now;
  const members = new Map<string, Member>();
  const notifyAll = () => {
    for (const m of members.values()) m.listener?.();
  };
  const expire = () => {
    const cutoff = now() - ttlMs;
    let dropped = false;
    for (const [id, m] of members)
      if (m.heardAt < cutoff) {
        members.delete(id);
        dropped = true;
      }
    if (dropped) notifyAll();
    return dropped;
  };
  // Expiry must reach routers that stopped reporting even when nothing else changes.
  const timer = setInterval(expire, Math.max(50, Math.round(ttlMs / 4))).unref();

  return {
    ttlMs,
    join(routerId) {
      const member: Member = { routerId, heardAt: now(), inbox: [], listener: undefined, gone: false };
      const previous = members.get(routerId);
      if (previous) previous.gone = true;
      members.set(routerId, member);
      notifyAll();
      return {
        report(events) {
          if (member.gone) return;
          const expired = members.get(routerId) !== member;
          member.heardAt = now();
          if (expired) {
            members.set(routerId, member);
            notifyAll();
          }
          if (events.length === 0) return;
          const batch = create(RouterEventsSchema, { routerId, events });
          for (const m of members.values()) {
            if (m === member) continue;
            m.inbox.push(batch);
            if (m.inbox.length > MAX_INBOX) m.inbox.shift();
            m.listener?.();
          }
        },
        take() {
          const out = member.inbox;
          member.inbox = [];
          return out;
        },
        others: () => [...members.keys()].filter((id) => id !== routerId),
        onChange(listener) {
          member.listener = listener;
        },
        leave() {
          member.gone = true;
          if (members.get(routerId) !== member) return;
          members.delete(routerId);
          notifyAll();
        },
      };
    },
    expire,
    close: () => clearInterval(timer),
  };
}

/**
 * Serves one `ShareInFlight` stream: reads the router's reports in the background, relaying their
 * events, and yields the other routers' events and the live routers whenever they change
 * (coalesced: a burst while the client is slow costs one message). The router leaves the relay
 * when its stream ends.
 */
export async function* shareInFlightStream(
  registry: InFlightRegistry,
  reports: AsyncIterable<InFlightReport>,
  ctx: HandlerContext,
  options: { nodeId: string; logger?: Logger },
): AsyncGenerator<InFlightShare> {
  let member: RelayMember | undefined;
  let routerId: string | undefined;
  let dirty = false;
  let ended = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    dirty = true;
    wake?.();
  };
  const onAbort = () => wake?.();
  ctx.signal.addEventListener('abort', onAbort);
  const reading = (async () => {
    try {
      for await (const r of reports) {
        if (!r.routerId) continue;
        if (!member || r.routerId !== routerId) {
          member?.leave();
          routerId = r.routerId;
          member = registry.join(routerId);
          member.onChange(poke);
          poke(); // the first answer names the node
        }
        member.report(r.events);
      }
    } catch (err) {
      if (!ctx.signal.aborted) options.logger?.debug({ err }, 'in-flight report stream failed');
    } finally {
      ended = true;
      wake?.();
    }
  })();
  try {
    while (!ctx.signal.aborted && !ended) {
      if (!dirty || !member) {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      dirty = false;
      registry.expire();
      yield create(InFlightShareSchema, {
        nodeId: options.nodeId,
        ttlMs: registry.ttlMs,
        routers: member.take(),
        liveRouters: member.others(),
      });
    }
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    member?.leave();
    void reading; // ends with the request stream, which ends with this call
  }
}
