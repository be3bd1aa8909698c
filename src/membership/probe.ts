/**
 * SWIM's failure detector with Lifeguard's refinements. Once per (health-scaled) probe interval a
 * member probes the next member of a randomized round-robin order:
 * 1. a direct ping (with a suspect message about the target piggybacked when it is already
 *    suspected, so it can refute at once: Lifeguard's "buddy system");
 * 2. no ack within the (health-scaled) probe timeout: ping-req to `indirectChecks` random live
 *    members, each asked to nack if the target stays silent, plus a ping over the reliable channel;
 * 3. no ack by the end of the interval: the target is suspected. The health score rises by the
 *    relays' missing nacks (a node that gets no nacks either is the problem itself), or by one when
 *    no relay was available; any ack lowers it by one.
 * A relay waits `nackTimeoutFraction` of the requester's remaining time, so that its nack arrives
 * before the requester gives up (Lifeguard's footnote; memberlist waits the whole probe timeout and
 * its nacks come too late with the default timings).
 */
import type { Clock, TimerId } from './clock.ts';
import type { Message, PingMessage, PingReqMessage } from './codec.ts';
import type { SwimConfig } from './config.ts';
import type { Awareness } from './awareness.ts';
import type { Entry, MemberTable } from './state.ts';
import type { MemberStats } from './types.ts';
import { pickRandom, randomIndex, shuffle, type Random } from './random.ts';

export interface ProberContext {
  selfId: string;
  clock: Clock;
  random: Random;
  config: Readonly<SwimConfig>;
  awareness: Awareness;
  table: MemberTable;
  stats: MemberStats;
  /** Sends `messages` in one datagram to member `toId` at `to` (pending broadcasts piggybacked). */
  send(to: string, messages: readonly Message[], toId?: string): void;
  /** Sends `messages` over the reliable channel to member `toId` at `to`. */
  sendReliable(to: string, messages: readonly Message[], done?: (err?: Error) => void, toId?: string): void;
}

export interface Prober {
  /** Starts the probe loop, first probe after a random stagger of up to one interval. */
  start(): void;
  stop(): void;
  /** A new member: it gets a random place in this round, so it is probed soon. */
  added(id: string): void;
  onPing(m: PingMessage, sender: Sender, reliable: boolean): void;
  onPingReq(m: PingReqMessage, sender: Sender): void;
  onAck(seq: number, reliable: boolean): void;
  onNack(seq: number): void;
}

/** Who sent a packet: replies go to its advertised address. */
export interface Sender {
  id: string;
  address: string;
}

interface Handler {
  ack(reliable: boolean): void;
  nack(): void;
}

interface Probe {
  seq: number;
  target: Entry;
  /** The target's incarnation when the probe started: the suspicion, if any, names it. */
  incarnation: number;
  acked: boolean;
  expectedNacks: number;
  nacks: number;
  deadline: number;
  timer: TimerId | undefined;
}

const probeable = (e: Entry) => e.status === 'alive' || e.status === 'suspect';

export function createProber(ctx: ProberContext): Prober {
  const { clock, config, awareness, table, stats, random } = ctx;
  const handlers = new Map<number, Handler>();
  /** Timers of the relays this node runs for others' probes. */
  const relays = new Set<TimerId>();
  let seq = 0;
  let order: string[] = [];
  let index = 0;
  let tick: TimerId | undefined;
  let current: Probe | undefined;
  let running = false;

  function nextTarget(): Entry | undefined {
    for (let tries = 0; tries <= order.length; tries++) {
      if (index >= order.length) {
        order = shuffle(
          table.liveOthers().map((e) => e.id),
          random,
        );
        index = 0;
        if (order.length === 0) return undefined;
      }
      const e = table.get(order[index++]!);
      if (e && probeable(e) && e.id !== ctx.selfId) return e;
    }
    return undefined;
  }

  function finish(p: Probe): void {
    if (p.timer !== undefined) clock.clearTimer(p.timer);
    handlers.delete(p.seq);
    if (current === p) current = undefined;
    if (p.acked) return;
    stats.failedProbes++;
    if (p.expectedNacks > 0) {
      const missed = Math.max(0, p.expectedNacks - p.nacks);
      stats.nacksMissed += missed;
      awareness.apply(missed);
    } else awareness.apply(1);
    if (probeable(p.target) && table.get(p.target.id) === p.target)
      table.suspect({ type: 'suspect', incarnation: p.incarnation, id: p.target.id, from: ctx.selfId });
  }

  function indirect(p: Probe): void {
    p.timer = undefined;
    if (p.acked) return;
    stats.indirectProbes++;
    const helpers = pickRandom(
      table.liveOthers().filter((e) => e.status === 'alive' && e !== p.target),
      config.indirectChecks,
      random,
    );
    const timeoutMs = Math.max(1, Math.floor((p.deadline - clock.now()) * config.nackTimeoutFraction));
    for (const relay of helpers) {
      const req: PingReqMessage = {
        type: 'ping-req',
        seq: p.seq,
        target: p.target.id,
        targetAddress: p.target.address,
        nack: true,
        timeoutMs,
      };
      ctx.send(relay.address, [req], relay.id);
      p.expectedNacks++;
    }
    if (config.reliableProbeFallback)
      ctx.sendReliable(
        p.target.address,
        [{ type: 'ping', seq: p.seq, target: p.target.id }],
        undefined,
        p.target.id,
      );
  }

  function probe(target: Entry, intervalMs: number): void {
    stats.probes++;
    const p: Probe = {
      seq: ++seq,
      target,
      incarnation: target.incarnation,
      acked: false,
      expectedNacks: 0,
      nacks: 0,
      deadline: clock.now() + intervalMs,
      timer: undefined,
    };
    current = p;
    handlers.set(p.seq, {
      ack(reliable) {
        if (p.acked) return;
        p.acked = true;
        if (reliable) stats.reliableProbeAcks++;
        awareness.apply(-1);
        finish(p);
      },
      nack() {
        p.nacks++;
        stats.nacksReceived++;
      },
    });
    const messages: Message[] = [{ type: 'ping', seq: p.seq, target: target.id }];
    if (target.status === 'suspect')
      messages.push({ type: 'suspect', incarnation: target.incarnation, id: target.id, from: ctx.selfId });
    ctx.send(target.address, messages, target.id);
    p.timer = clock.setTimer(awareness.scale(config.probeTimeoutMs), () => indirect(p));
  }

  function loop(): void {
    tick = undefined;
    if (!running) return;
    if (current) finish(current);
    const intervalMs = awareness.scale(config.probeIntervalMs);
    const target = nextTarget();
    if (target) probe(target, intervalMs);
    tick = clock.setTimer(intervalMs, loop);
  }

  return {
    start() {
      if (running) return;
      running = true;
      tick = clock.setTimer(random() * config.probeIntervalMs, loop);
    },
    stop() {
      running = false;
      if (tick !== undefined) clock.clearTimer(tick);
      tick = undefined;
      if (current?.timer !== undefined) clock.clearTimer(current.timer);
      current = undefined;
      handlers.clear();
      for (const t of relays) clock.clearTimer(t);
      relays.clear();
    },
    added(id) {
      // Somewhere in what is left of this round.
      order.splice(index + randomIndex(random, order.length - index + 1), 0, id);
    },
    onPing(m, sender, reliable) {
      if (m.target !== '' && m.target !== ctx.selfId) return; // meant for a previous owner of the address
      const ack: Message = { type: 'ack', seq: m.seq };
      if (reliable) ctx.sendReliable(sender.address, [ack], undefined, sender.id);
      else ctx.send(sender.address, [ack], sender.id);
    },
    onPingReq(m, sender) {
      // Relay: ping the target on the requester's behalf, forward its ack, or nack in time.
      const local = ++seq;
      const waitMs = Math.min(m.timeoutMs > 0 ? m.timeoutMs : config.probeTimeoutMs, config.probeIntervalMs);
      let answered = false;
      const timer = clock.setTimer(waitMs, () => {
        relays.delete(timer);
        handlers.delete(local);
        if (!answered && m.nack) ctx.send(sender.address, [{ type: 'nack', seq: m.seq }], sender.id);
      });
      handlers.set(local, {
        ack() {
          if (answered) return;
          answered = true;
          clock.clearTimer(timer);
          relays.delete(timer);
          handlers.delete(local);
          ctx.send(sender.address, [{ type: 'ack', seq: m.seq }], sender.id);
        },
        nack() {},
      });
      relays.add(timer);
      ctx.send(m.targetAddress, [{ type: 'ping', seq: local, target: m.target }], m.target);
    },
    onAck(ackSeq, reliable) {
      handlers.get(ackSeq)?.ack(reliable);
    },
    onNack(nackSeq) {
      handlers.get(nackSeq)?.nack();
    },
  };
}
