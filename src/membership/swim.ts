/**
 * A member of the mesh's SWIM cluster: `createMember` wires the member table (state.ts), the
 * failure detector (probe.ts) and dissemination (broadcast-queue.ts) to a transport and a clock.
 *
 * - Join: a push-pull (full state both ways, over the reliable channel) with every seed given;
 *   `join` resolves with how many answered.
 * - Dissemination: every update is piggybacked on the datagrams the protocol sends anyway (pings,
 *   acks, relays) and gossiped to `gossipNodes` random members every `gossipIntervalMs`, each at
 *   most λ · ceil(log10(n + 1)) times; members dead less than `gossipToTheDeadMs` still get gossip.
 * - Anti-entropy: every `pushPullIntervalMs` (stretched above 32 members), a push-pull with one
 *   random live member; every `reconnectIntervalMs`, one with a random dead member, which is how
 *   the two sides of a healed partition find each other again (each refutes the other's verdict).
 * - Leave: this node announces `left` (others mark it left, not dead), waits until that went out
 *   or `leaveTimeoutMs`, then closes.
 * Everything runs on the injected clock and randomness; nothing here reads real time.
 */
import { MeshError } from '../core/errors.ts';
import { createAwareness } from './awareness.ts';
import { createBroadcastQueue } from './broadcast-queue.ts';
import { SEAL_OVERHEAD, type Keyring } from './keyring.ts';
import type { Clock, TimerId } from './clock.ts';
import {
  decodePacket,
  encodeHeader,
  encodeMessage,
  joinPacket,
  type Message,
  type Packet,
  type PushPullMessage,
} from './codec.ts';
import { pushPullIntervalMs, resolveSwimConfig, retransmitLimit, type SwimConfig } from './config.ts';
import { createProber } from './probe.ts';
import { pickRandom, type Random } from './random.ts';
import { createMemberTable, snapshot } from './state.ts';
import type { Transport } from './transport.ts';
import type { MemberEvent, MemberInfo, MemberListener, MemberStats } from './types.ts';

export interface MemberOptions {
  /** This node's member id, unique in the cluster (at most 255 UTF-8 bytes). */
  id: string;
  transport: Transport;
  clock: Clock;
  /** Default `Math.random`; seed it for a reproducible simulation. */
  random?: Random;
  /** Opaque node metadata, at most `maxMetaBytes`. */
  meta?: Uint8Array;
  config?: Partial<SwimConfig>;
  /**
   * Seals every packet and reliable message (AES-256-GCM, keyring.ts) and drops, counting them in
   * `stats().unauthenticated`, those that no installed key opens. Without it packets go in the clear:
   * `checkGossipSecurity` refuses that off loopback unless the operator says `insecure`.
   */
  keyring?: Keyring;
  /** A first listener (more with `on`). */
  onEvent?: MemberListener;
  /** Told about exceptions caught while handling a packet or calling a listener. */
  onError?: (err: unknown) => void;
}

export interface Member {
  readonly id: string;
  readonly address: string;
  readonly config: Readonly<SwimConfig>;
  /** Push-pull with each seed; resolves with how many answered, rejects (`unavailable`) if none did. */
  join(seeds: readonly string[]): Promise<number>;
  /** Announces `left`, waits for it to go out (at most `leaveTimeoutMs`), then closes. */
  leave(): Promise<void>;
  /** Stops at once, silently (others will find this node dead). */
  close(): void;
  /** Every member known, this node included. */
  members(): MemberInfo[];
  member(id: string): MemberInfo | undefined;
  /** Publishes new meta (a higher incarnation, gossiped as alive). */
  setMeta(meta: Uint8Array): void;
  /** Adds a listener; returns its removal. */
  on(listener: MemberListener): () => void;
  /** Lifeguard's local health score: 0 healthy … awarenessMaxMultiplier − 1. */
  health(): number;
  stats(): MemberStats;
}

const zeroStats = (): MemberStats => ({
  packetsReceived: 0,
  badPackets: 0,
  unauthenticated: 0,
  tlsRefused: 0,
  peerMismatches: 0,
  unknownMessages: 0,
  handlerErrors: 0,
  packetsSent: 0,
  probes: 0,
  indirectProbes: 0,
  failedProbes: 0,
  reliableProbeAcks: 0,
  nacksReceived: 0,
  nacksMissed: 0,
  refutations: 0,
  pushPulls: 0,
  pushPullFailures: 0,
});

export function createMember(opts: MemberOptions): Member {
  const { transport, clock } = opts;
  const random = opts.random ?? Math.random;
  const config = resolveSwimConfig(opts.config);
  const meta = opts.meta ?? new Uint8Array(0);
  if (meta.byteLength > config.maxMetaBytes)
    throw new MeshError(
      'invalid_config',
      `member meta is ${meta.byteLength} bytes, over ${config.maxMetaBytes}`,
    );
  let header: Uint8Array;
  try {
    if (opts.id === '') throw new Error('empty member id');
    header = encodeHeader(opts.id, transport.address);
  } catch (err) {
    throw new MeshError('invalid_config', `member id or address: ${(err as Error).message}`);
  }
  const stats = zeroStats();
  const { keyring } = opts;
  /** Room for messages in one datagram: the transport's limit less the header and the sealing. */
  const packetRoom = transport.maxPacketBytes - (keyring ? SEAL_OVERHEAD : 0) - header.byteLength;
  const seal = (packet: Uint8Array) => (keyring ? keyring.seal(packet) : packet);
  const queue = createBroadcastQueue();
  const awareness = createAwareness(config.awarenessMaxMultiplier);
  const listeners = new Set<MemberListener>(opts.onEvent ? [opts.onEvent] : []);
  const caught = (err: unknown) => {
    stats.handlerErrors++;
    opts.onError?.(err);
  };
  const emit = (e: MemberEvent) => {
    for (const l of listeners)
      try {
        l(e);
      } catch (err) {
        caught(err);
      }
  };

  const table = createMemberTable({
    self: { id: opts.id, address: transport.address, meta: meta.slice() },
    clock,
    config,
    queue,
    awareness,
    stats,
    emit,
    added: (id) => prober.added(id),
  });
  const limit = () => retransmitLimit(config.retransmitMult, table.liveCount());

  function send(to: string, messages: readonly Message[], toId?: string): void {
    const parts = messages.map(encodeMessage);
    let used = 0;
    for (const p of parts) used += p.byteLength;
    for (const b of queue.take(packetRoom - used, limit(), toId)) parts.push(b);
    stats.packetsSent++;
    transport.send(to, seal(joinPacket(header, parts)));
  }

  function sendReliable(
    to: string,
    messages: readonly Message[],
    done?: (err?: Error) => void,
    toId?: string,
  ): void {
    transport.sendReliable(to, seal(joinPacket(header, messages.map(encodeMessage))), done, toId);
  }

  const prober = createProber({
    selfId: opts.id,
    clock,
    random,
    config,
    awareness,
    table,
    stats,
    send,
    sendReliable,
  });

  // --- push-pull -----------------------------------------------------------------------------
  const pending = new Map<number, (ok: boolean) => void>();
  let pushPullSeq = 0;

  /** `toId`: the member expected at `to`, when known (not for seeds). */
  function pushPull(to: string, join: boolean, done: (ok: boolean) => void, toId?: string): void {
    const seq = ++pushPullSeq;
    let settled = false;
    const settle = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clock.clearTimer(timer);
      pending.delete(seq);
      if (ok) stats.pushPulls++;
      else stats.pushPullFailures++;
      done(ok);
    };
    const timer = clock.setTimer(config.joinTimeoutMs, () => settle(false));
    pending.set(seq, settle);
    const m: PushPullMessage = { type: 'push-pull', seq, join, reply: false, members: table.records() };
    sendReliable(
      to,
      [m],
      (err) => {
        if (err) settle(false);
      },
      toId,
    );
  }

  function onPushPull(m: PushPullMessage, p: Packet): void {
    table.merge(m.members);
    if (m.reply) pending.get(m.seq)?.(true);
    else {
      const reply: PushPullMessage = {
        type: 'push-pull',
        seq: m.seq,
        join: false,
        reply: true,
        members: table.records(),
      };
      sendReliable(p.fromAddress, [reply], undefined, p.from);
    }
  }

  // --- receiving -------------------------------------------------------------------------------
  function dispatch(m: Message, p: Packet, reliable: boolean): void {
    switch (m.type) {
      case 'ping':
        return prober.onPing(m, { id: p.from, address: p.fromAddress }, reliable);
      case 'ping-req':
        return prober.onPingReq(m, { id: p.from, address: p.fromAddress });
      case 'ack':
        return prober.onAck(m.seq, reliable);
      case 'nack':
        return prober.onNack(m.seq);
      case 'alive':
        return table.alive(m);
      case 'suspect':
        return table.suspect(m);
      case 'dead':
      case 'left':
        return table.dead(m);
      case 'push-pull':
        return onPushPull(m, p);
    }
  }

  let closed = false;
  transport.onReceive((packet, info) => {
    if (closed) return;
    stats.packetsReceived++;
    const plain = keyring ? keyring.open(packet) : packet;
    if (!plain) {
      stats.unauthenticated++;
      return;
    }
    let p: Packet;
    try {
      p = decodePacket(plain);
    } catch {
      stats.badPackets++;
      return;
    }
    // With mTLS the connection proved who sent it: a header naming another node is an impersonation.
    if (info.peerId !== undefined && p.from !== info.peerId) {
      stats.peerMismatches++;
      return;
    }
    stats.unknownMessages += p.unknown;
    for (const m of p.messages)
      try {
        dispatch(m, p, info.reliable);
      } catch (err) {
        caught(err);
      }
  });

  // --- periodic work ---------------------------------------------------------------------------
  const timers = new Set<TimerId>();
  /** Runs `fn` every `everyMs()` ms, the first time after a random stagger. */
  function every(everyMs: () => number, fn: () => void): void {
    if (everyMs() <= 0) return;
    const run = (delay: number) => {
      const id = clock.setTimer(delay, () => {
        timers.delete(id);
        if (closed) return;
        run(everyMs());
        fn();
      });
      timers.add(id);
    };
    run(random() * everyMs());
  }

  function gossip(): void {
    if (queue.size() === 0) return;
    const now = clock.now();
    const recentlyDead = table
      .goneOthers()
      .filter((e) => e.status === 'dead' && now - e.since < config.gossipToTheDeadMs);
    const live = table.liveOthers();
    const targets = pickRandom(
      recentlyDead.length > 0 ? live.concat(recentlyDead) : live,
      config.gossipNodes,
      random,
    );
    for (const t of targets) {
      const parts = queue.take(packetRoom, limit(), t.id);
      if (parts.length === 0) return;
      stats.packetsSent++;
      transport.send(t.address, seal(joinPacket(header, parts)));
    }
  }

  prober.start();
  every(() => config.gossipIntervalMs, gossip);
  every(
    () =>
      config.pushPullIntervalMs > 0 ? pushPullIntervalMs(config.pushPullIntervalMs, table.liveCount()) : 0,
    () => {
      const [peer] = pickRandom(
        table.liveOthers().filter((e) => e.status === 'alive'),
        1,
        random,
      );
      if (peer) pushPull(peer.address, false, () => {}, peer.id);
    },
  );
  every(
    () => config.reconnectIntervalMs || 60_000,
    () => {
      table.reap();
      if (config.reconnectIntervalMs <= 0) return;
      const [peer] = pickRandom(
        table.goneOthers().filter((e) => e.status === 'dead'),
        1,
        random,
      );
      if (peer) pushPull(peer.address, false, () => {}, peer.id);
    },
  );

  function close(): void {
    if (closed) return;
    closed = true;
    prober.stop();
    for (const t of timers) clock.clearTimer(t);
    timers.clear();
    transport.onReceive(undefined);
    table.close();
    for (const settle of [...pending.values()]) settle(false);
    queue.clear();
  }

  let leaving: Promise<void> | undefined;

  return {
    id: opts.id,
    address: transport.address,
    config,
    join(seeds) {
      return new Promise((resolve, reject) => {
        if (closed) return reject(new MeshError('unavailable', 'member is closed'));
        const targets = [...new Set(seeds)].filter((s) => s !== transport.address);
        if (targets.length === 0) return resolve(0);
        let waiting = targets.length;
        let ok = 0;
        for (const seed of targets)
          pushPull(seed, true, (good) => {
            if (good) ok++;
            if (--waiting > 0) return;
            if (ok > 0) resolve(ok);
            else
              reject(
                new MeshError('unavailable', `no seed answered (${targets.length} tried)`, {
                  seeds: targets,
                }),
              );
          });
      });
    },
    leave() {
      leaving ??= new Promise<void>((resolve) => {
        if (closed) return resolve();
        prober.stop();
        let finished = false;
        const done = () => {
          if (finished) return;
          finished = true;
          clock.clearTimer(timer);
          close();
          resolve();
        };
        const timer = clock.setTimer(config.leaveTimeoutMs, done);
        table.leave(done);
        if (table.liveOthers().length === 0) done();
        else gossip();
      });
      return leaving;
    },
    close,
    members: () => [...table.entries()].map(snapshot),
    member(id) {
      const e = table.get(id);
      return e && snapshot(e);
    },
    setMeta(next) {
      if (next.byteLength > config.maxMetaBytes)
        throw new MeshError(
          'invalid_request',
          `member meta is ${next.byteLength} bytes, over ${config.maxMetaBytes}`,
        );
      if (!closed && !leaving) table.setMeta(next.slice());
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    health: () => awareness.score(),
    stats: () => ({ ...stats, ...(transport.stats && { tlsRefused: transport.stats().tlsRefused }) }),
  };
}
