/**
 * The member table and SWIM's rules for changing it. Every update carries the member's
 * incarnation, and the rules decide by it:
 * - alive(i) wins over alive(j) and suspect(j) when i > j, and brings a dead/left member back
 *   (a `join`) when i > j;
 * - suspect(i) wins over alive(j) when i ≥ j; a second suspect(i) from another member confirms
 *   the suspicion and shortens its timer (Lifeguard, suspicion.ts);
 * - dead(i) and left(i) win over alive(j) and suspect(j) when i ≥ j (left also over dead);
 * - about this node itself: anything with i ≥ ours that is not our own alive record is refuted by
 *   taking incarnation max(ours, i) + 1 and broadcasting alive (which also raises the health score).
 * Each accepted change is queued for dissemination and reported to the listener.
 * A push-pull merge applies the remote records by the same rules, except that a remote `dead` only
 * makes us suspect (memberlist's caution: let the member refute before we believe it).
 */
import type {
  AliveMessage,
  DeadMessage,
  LeftMessage,
  MemberRecord,
  Message,
  SuspectMessage,
} from './codec.ts';
import { encodeMessage } from './codec.ts';
import type { BroadcastQueue } from './broadcast-queue.ts';
import type { Awareness } from './awareness.ts';
import type { Clock } from './clock.ts';
import { suspicionTimeoutMs, type SwimConfig } from './config.ts';
import { createSuspicion, type Suspicion } from './suspicion.ts';
import type { MemberEvent, MemberInfo, MemberStats, MemberStatus } from './types.ts';

/** A row of the table (mutable inside the module; the outside sees `MemberInfo` snapshots). */
export interface Entry {
  id: string;
  address: string;
  status: MemberStatus;
  incarnation: number;
  meta: Uint8Array;
  since: number;
  suspicion: Suspicion | undefined;
}

export interface TableContext {
  self: { id: string; address: string; meta: Uint8Array };
  clock: Clock;
  config: Readonly<SwimConfig>;
  queue: BroadcastQueue;
  awareness: Awareness;
  stats: MemberStats;
  emit(event: MemberEvent): void;
  /** A member was added to the table. */
  added(id: string): void;
}

export interface MemberTable {
  readonly self: Readonly<Entry>;
  get(id: string): Entry | undefined;
  entries(): IterableIterator<Entry>;
  /** Members alive or suspect, this node included: the cluster size estimate `n`. */
  liveCount(): number;
  /** The other members alive or suspect, in table order (cached until one changes; do not modify). */
  liveOthers(): readonly Entry[];
  /** The other members dead or left, in table order (cached likewise). */
  goneOthers(): readonly Entry[];
  alive(m: AliveMessage): void;
  suspect(m: SuspectMessage): void;
  dead(m: DeadMessage | LeftMessage): void;
  /** Applies a push-pull peer's records. */
  merge(records: readonly MemberRecord[]): void;
  /** Every member, this node included, as push-pull carries them. */
  records(): MemberRecord[];
  /** Publishes new meta for this node (a higher incarnation). */
  setMeta(meta: Uint8Array): void;
  /** Marks this node left and queues the announcement; `onSent` runs once it went out enough. */
  leave(onSent: () => void): void;
  /** Forgets dead and left members whose last change is older than `reapAfterMs`. */
  reap(): void;
  /** Cancels every suspicion timer. */
  close(): void;
}

const live = (s: MemberStatus) => s === 'alive' || s === 'suspect';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A frozen snapshot of an entry. */
export function snapshot(e: Readonly<Entry>): MemberInfo {
  return Object.freeze({
    id: e.id,
    address: e.address,
    status: e.status,
    incarnation: e.incarnation,
    meta: e.meta,
    since: e.since,
  });
}

export function createMemberTable(ctx: TableContext): MemberTable {
  const { clock, config, queue, awareness, stats } = ctx;
  const members = new Map<string, Entry>();
  const self: Entry = {
    ...ctx.self,
    status: 'alive',
    incarnation: 1,
    since: clock.now(),
    suspicion: undefined,
  };
  members.set(self.id, self);
  let liveCount = 1;
  // Caches of the other members by liveness, rebuilt on demand after a change: gossip and probes
  // choose among them several times a second, and the table is large (1,000 members) and calm.
  let liveCache: Entry[] | undefined;
  let goneCache: Entry[] | undefined;
  const invalidate = () => {
    liveCache = undefined;
    goneCache = undefined;
  };
  const rebuild = () => {
    liveCache = [];
    goneCache = [];
    for (const e of members.values()) if (e !== self) (live(e.status) ? liveCache : goneCache).push(e);
  };

  // A member's own alive or left is news to everyone but itself; suspect and dead go to it too (to refute).
  const broadcast = (id: string, m: Message, onDone?: () => void) =>
    queue.push(id, encodeMessage(m), {
      skipFor: m.type === 'alive' || m.type === 'left' ? id : undefined,
      onDone,
    });
  const aliveOf = (e: Entry): AliveMessage => ({
    type: 'alive',
    incarnation: e.incarnation,
    id: e.id,
    address: e.address,
    meta: e.meta,
  });
  // Announce ourselves: the first members we meet pass it on (memberlist does the same).
  broadcast(self.id, aliveOf(self));
  const emit = (type: MemberEvent['type'], e: Entry, previous: MemberStatus | undefined) =>
    ctx.emit({ type, member: snapshot(e), previous });

  function setStatus(e: Entry, status: MemberStatus): void {
    if (live(e.status) !== live(status)) {
      liveCount += live(status) ? 1 : -1;
      invalidate();
    }
    if (e.status !== status) e.since = clock.now();
    e.status = status;
    if (status !== 'suspect' && e.suspicion) {
      e.suspicion.cancel();
      e.suspicion = undefined;
    }
  }

  function refute(accused: number): void {
    self.incarnation = Math.max(self.incarnation, accused) + 1;
    broadcast(self.id, aliveOf(self));
    awareness.apply(1);
    stats.refutations++;
  }

  /** Leaving: this node no longer defends itself. */
  const leaving = () => self.status === 'left';

  function alive(m: AliveMessage): void {
    if (m.id === self.id) {
      if (leaving() || m.incarnation < self.incarnation) return;
      const mine =
        m.incarnation === self.incarnation && m.address === self.address && sameBytes(m.meta, self.meta);
      if (!mine) refute(m.incarnation);
      return;
    }
    const e = members.get(m.id);
    if (!e) {
      const fresh: Entry = {
        id: m.id,
        address: m.address,
        status: 'dead',
        incarnation: m.incarnation,
        meta: m.meta,
        since: clock.now(),
        suspicion: undefined,
      };
      members.set(m.id, fresh);
      invalidate();
      setStatus(fresh, 'alive');
      ctx.added(m.id);
      broadcast(m.id, m);
      emit('join', fresh, undefined);
      return;
    }
    if (m.incarnation <= e.incarnation) return;
    const previous = e.status;
    const changed = e.address !== m.address || !sameBytes(e.meta, m.meta);
    e.incarnation = m.incarnation;
    e.address = m.address;
    e.meta = m.meta;
    setStatus(e, 'alive');
    broadcast(m.id, m);
    if (!live(previous)) emit('join', e, previous);
    else if (previous === 'suspect' || changed) emit('update', e, previous);
  }

  function suspect(m: SuspectMessage): void {
    const e = members.get(m.id);
    if (!e || m.incarnation < e.incarnation) return;
    if (e === self) {
      if (!leaving()) refute(m.incarnation);
      return;
    }
    if (e.status === 'suspect' && m.incarnation === e.incarnation) {
      if (e.suspicion?.confirm(m.from)) broadcast(m.id, m);
      return;
    }
    if (!live(e.status)) return;
    const previous = e.status;
    e.suspicion?.cancel();
    e.incarnation = m.incarnation;
    setStatus(e, 'suspect');
    e.since = clock.now();
    broadcast(m.id, m);
    // Expect confirmations from the others, minus two probe periods of phase (memberlist's k).
    const n = liveCount;
    let k = config.suspicionMult - 2;
    if (n - 2 < k) k = 0;
    const minMs = suspicionTimeoutMs(config.suspicionMult, n, config.probeIntervalMs);
    const since = e.since;
    e.suspicion = createSuspicion({
      clock,
      from: m.from,
      k,
      minMs,
      maxMs: config.suspicionMaxTimeoutMult * minMs,
      onTimeout: () => {
        if (members.get(e.id) !== e || e.status !== 'suspect' || e.since !== since) return;
        dead({ type: 'dead', incarnation: e.incarnation, id: e.id, from: self.id });
      },
    });
    if (previous === 'alive') emit('suspect', e, previous);
  }

  function dead(m: DeadMessage | LeftMessage): void {
    const e = members.get(m.id);
    if (!e || m.incarnation < e.incarnation) return;
    const left = m.type === 'left';
    if (e === self) {
      if (!leaving()) refute(m.incarnation);
      return;
    }
    // Already gone: only the member's own word that it left upgrades a death.
    if (e.status === 'left' || (e.status === 'dead' && !left)) return;
    const previous = e.status;
    e.incarnation = m.incarnation;
    setStatus(e, left ? 'left' : 'dead');
    broadcast(m.id, m);
    emit(left ? 'leave' : 'dead', e, previous);
  }

  function merge(records: readonly MemberRecord[]): void {
    for (const r of records) {
      switch (r.status) {
        case 'alive':
          alive({ type: 'alive', incarnation: r.incarnation, id: r.id, address: r.address, meta: r.meta });
          break;
        case 'left':
          dead({ type: 'left', incarnation: r.incarnation, id: r.id });
          break;
        case 'suspect':
          // A member we never heard of comes in alive first, then suspected.
          if (!members.has(r.id))
            alive({ type: 'alive', incarnation: r.incarnation, id: r.id, address: r.address, meta: r.meta });
          suspect({ type: 'suspect', incarnation: r.incarnation, id: r.id, from: self.id });
          break;
        case 'dead':
          suspect({ type: 'suspect', incarnation: r.incarnation, id: r.id, from: self.id });
          break;
      }
    }
  }

  return {
    self,
    get: (id) => members.get(id),
    entries: () => members.values(),
    liveCount: () => liveCount,
    liveOthers() {
      if (!liveCache) rebuild();
      return liveCache!;
    },
    goneOthers() {
      if (!goneCache) rebuild();
      return goneCache!;
    },
    alive,
    suspect,
    dead,
    merge,
    records: () =>
      [...members.values()].map((e) => ({
        id: e.id,
        address: e.address,
        incarnation: e.incarnation,
        status: e.status,
        meta: e.meta,
      })),
    setMeta(meta) {
      self.meta = meta;
      self.incarnation++;
      broadcast(self.id, aliveOf(self));
    },
    leave(onSent) {
      setStatus(self, 'left');
      broadcast(self.id, { type: 'left', incarnation: self.incarnation, id: self.id }, onSent);
    },
    reap() {
      const now = clock.now();
      for (const e of [...members.values()])
        if (e !== self && !live(e.status) && now - e.since >= config.reapAfterMs) {
          members.delete(e.id);
          invalidate();
        }
    },
    close() {
      for (const e of members.values()) {
        e.suspicion?.cancel();
        e.suspicion = undefined;
      }
    },
  };
}
