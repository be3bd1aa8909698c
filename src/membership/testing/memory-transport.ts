/**
 * An in-memory network on a (virtual) clock, for deterministic simulation of a whole cluster in one
 * process: seeded per-datagram loss, a fixed delay plus uniform jitter, a per-node extra egress
 * delay (a slow node), partitions between sets of addresses, nodes taken down (a killed process:
 * nothing in or out), and bytes counted per node.
 *
 * The reliable channel models TCP: no loss, ordered by its own delay, and a send to a node that is
 * down fails at once (a reset) while a send across a partition fails after `connectTimeoutMs`.
 */
import type { Clock } from '../clock.ts';
import type { Random } from '../random.ts';
import type { ReceiveHandler, Transport } from '../transport.ts';

export interface MemoryNetworkOptions {
  clock: Clock;
  /** Drives loss and jitter; seed it for a reproducible run. */
  random: Random;
  /** Probability that a datagram is lost. Default 0. */
  loss?: number;
  /** One-way delay of every datagram and reliable message (ms). Default 1. */
  delayMs?: number;
  /** Uniform extra delay in [0, jitterMs) per datagram (ms). Default 0. */
  jitterMs?: number;
  /** How long a reliable send across a partition takes to fail (ms). Default 1,000. */
  connectTimeoutMs?: number;
  /** Largest datagram; bigger ones are dropped and counted. Default 1,400. */
  maxPacketBytes?: number;
  /**
   * Let datagram loss delay the reliable channel as it delays TCP: each of SYN and SYN-ACK lost
   * (with the loss probability) costs an initial retransmission timeout of 1 s, the data segment
   * lost costs 200 ms (Linux's minimum RTO). Default false: reliable messages are never late.
   */
  tcpLossDelays?: boolean;
}

/** Traffic of one node (or of the whole network). */
export interface TrafficStats {
  packetsSent: number;
  bytesSent: number;
  packetsReceived: number;
  bytesReceived: number;
  /** Datagrams this node sent that never arrived (loss, partition, down, oversize). */
  packetsDropped: number;
  reliableSent: number;
  reliableBytesSent: number;
  reliableFailed: number;
}

export interface MemoryNetwork {
  /** A transport for `address` (one per address). */
  connect(address: string): Transport;
  setLoss(probability: number): void;
  /** No traffic between any address of `a` and any of `b` until `heal()`. Cumulative. */
  partition(a: readonly string[], b: readonly string[]): void;
  /** Removes every partition. */
  heal(): void;
  /** A node that is down neither sends nor receives (a killed process, its host still answering). */
  setDown(address: string, down: boolean): void;
  /** Extra delay on everything `address` sends (a slow or overloaded node). 0 restores it. */
  setEgressDelay(address: string, extraMs: number): void;
  stats(address: string): TrafficStats;
  total(): TrafficStats;
}

const emptyStats = (): TrafficStats => ({
  packetsSent: 0,
  bytesSent: 0,
  packetsReceived: 0,
  bytesReceived: 0,
  packetsDropped: 0,
  reliableSent: 0,
  reliableBytesSent: 0,
  reliableFailed: 0,
});

interface Node {
  handler: ReceiveHandler | undefined;
  down: boolean;
  egressMs: number;
  stats: TrafficStats;
}

export function createMemoryNetwork(options: MemoryNetworkOptions): MemoryNetwork {
  const { clock, random } = options;
  let loss = options.loss ?? 0;
  const delayMs = options.delayMs ?? 1;
  const jitterMs = options.jitterMs ?? 0;
  const connectTimeoutMs = options.connectTimeoutMs ?? 1_000;
  const maxPacketBytes = options.maxPacketBytes ?? 1_400;
  const tcpLossDelays = options.tcpLossDelays ?? false;
  /** Extra latency of one reliable message from retransmissions (tcpLossDelays). */
  const retransmitDelay = () => {
    if (!tcpLossDelays || loss <= 0) return 0;
    let d = 0;
    if (random() < loss) d += 1_000; // SYN
    if (random() < loss) d += 1_000; // SYN-ACK
    if (random() < loss) d += 200; // data
    return d;
  };
  const nodes = new Map<string, Node>();
  /** Blocked pairs, keyed `a\0b` in both orders. */
  const blocked = new Set<string>();

  const node = (address: string): Node => {
    let n = nodes.get(address);
    if (!n) {
      n = { handler: undefined, down: false, egressMs: 0, stats: emptyStats() };
      nodes.set(address, n);
    }
    return n;
  };
  const isBlocked = (a: string, b: string) => blocked.size > 0 && blocked.has(`${a}\0${b}`);
  const up = (address: string) => {
    const n = nodes.get(address);
    return n !== undefined && !n.down && n.handler !== undefined;
  };

  function deliver(from: string, to: string, data: Uint8Array, reliable: boolean): boolean {
    const dst = nodes.get(to);
    if (!dst || dst.down || !dst.handler || isBlocked(from, to)) return false;
    dst.stats.packetsReceived++;
    dst.stats.bytesReceived += data.byteLength;
    dst.handler(data, { from, reliable });
    return true;
  }

  function transport(address: string): Transport {
    const self = node(address);
    return {
      address,
      maxPacketBytes,
      send(to, packet) {
        if (self.down) return;
        self.stats.packetsSent++;
        self.stats.bytesSent += packet.byteLength;
        if (packet.byteLength > maxPacketBytes || isBlocked(address, to) || (loss > 0 && random() < loss)) {
          self.stats.packetsDropped++;
          return;
        }
        const data = packet.slice();
        const d = delayMs + self.egressMs + (jitterMs > 0 ? random() * jitterMs : 0);
        clock.setTimer(d, () => {
          if (!deliver(address, to, data, false)) self.stats.packetsDropped++;
        });
      },
      sendReliable(to, data, done) {
        const fail = (afterMs: number, why: string) => {
          self.stats.reliableFailed++;
          clock.setTimer(afterMs, () => done?.(new Error(`${why}: ${to}`)));
        };
        if (self.down) return fail(0, 'local node is down');
        self.stats.reliableSent++;
        self.stats.reliableBytesSent += data.byteLength;
        if (isBlocked(address, to)) return fail(connectTimeoutMs, 'connect timeout');
        if (!up(to)) return fail(2 * delayMs, 'connection refused');
        const copy = data.slice();
        clock.setTimer(delayMs + self.egressMs + retransmitDelay(), () => {
          if (self.down) return fail(0, 'local node is down');
          if (isBlocked(address, to)) return fail(connectTimeoutMs, 'connection timed out');
          if (!deliver(address, to, copy, true)) return fail(delayMs, 'connection reset');
          clock.setTimer(delayMs, () => done?.());
        });
      },
      onReceive(handler) {
        self.handler = handler;
      },
    };
  }

  return {
    connect(address) {
      if (nodes.get(address)?.handler) throw new Error(`address in use: ${address}`);
      return transport(address);
    },
    setLoss(probability) {
      loss = probability;
    },
    partition(a, b) {
      for (const x of a)
        for (const y of b) {
          if (x === y) continue;
          blocked.add(`${x}\0${y}`);
          blocked.add(`${y}\0${x}`);
        }
    },
    heal() {
      blocked.clear();
    },
    setDown(address, down) {
      node(address).down = down;
    },
    setEgressDelay(address, extraMs) {
      node(address).egressMs = Math.max(0, extraMs);
    },
    stats: (address) => ({ ...node(address).stats }),
    total() {
      const t = emptyStats();
      for (const n of nodes.values())
        for (const k of Object.keys(t) as (keyof TrafficStats)[]) t[k] += n.stats[k];
      return t;
    },
  };
}
