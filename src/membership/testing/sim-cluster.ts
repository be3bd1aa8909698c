/**
 * A whole cluster in one process, for tests and experiments: members on a virtual clock and an
 * in-memory network, every source of randomness derived from one seed, and every event any member
 * saw recorded with its time. Nothing here is used by meshd.
 */
import { createVirtualClock, type VirtualClock } from '../clock.ts';
import type { SwimConfig } from '../config.ts';
import { createMemoryNetwork, type MemoryNetwork, type MemoryNetworkOptions } from './memory-transport.ts';
import type { Keyring } from '../keyring.ts';
import { createSeededRandom } from '../random.ts';
import { createMember, type Member } from '../swim.ts';
import type { MemberEvent, MemberStatus } from '../types.ts';

export interface SimClusterOptions {
  seed?: number;
  network?: Omit<MemoryNetworkOptions, 'clock' | 'random'>;
  /** Config of every member (each `add` may override). */
  config?: Partial<SwimConfig>;
}

export interface RecordedEvent {
  at: number;
  /** The member that saw it. */
  observer: string;
  event: MemberEvent;
}

export interface SimCluster {
  clock: VirtualClock;
  network: MemoryNetwork;
  members: Map<string, Member>;
  events: RecordedEvent[];
  /** The address of member `id` on the simulated network. */
  addressOf: (id: string) => string;
  add(id: string, options?: { meta?: Uint8Array; config?: Partial<SwimConfig>; keyring?: Keyring }): Member;
  /** `id` joins through the members named in `seeds`; the clock runs until the join settles. */
  join(id: string, seeds: readonly string[]): Promise<number>;
  /** Runs the clock `ms` forward. */
  run(ms: number): void;
  /** What `observer` thinks of `id`. */
  view(observer: string, id: string): MemberStatus | undefined;
  /** Every member of `observers` sees every member of `ids` (but itself) as `status`. */
  agree(observers: readonly string[], ids: readonly string[], status: MemberStatus): boolean;
  /** Runs in `stepMs` steps until `done()` or `maxMs` passed; returns the time taken or undefined. */
  runUntil(done: () => boolean, maxMs: number, stepMs?: number): number | undefined;
}

export function createSimCluster(options: SimClusterOptions = {}): SimCluster {
  const seed = options.seed ?? 1;
  const clock = createVirtualClock();
  const network = createMemoryNetwork({ ...options.network, clock, random: createSeededRandom(seed) });
  const members = new Map<string, Member>();
  const events: RecordedEvent[] = [];
  const addressOf = (id: string) => `${id}:7946`;
  let salt = 0;

  const cluster: SimCluster = {
    clock,
    network,
    members,
    events,
    addressOf,
    add(id, opts = {}) {
      const m = createMember({
        id,
        transport: network.connect(addressOf(id)),
        clock,
        random: createSeededRandom(seed * 7919 + ++salt * 104729),
        meta: opts.meta,
        ...(opts.keyring ? { keyring: opts.keyring } : {}),
        config: { ...options.config, ...opts.config },
        onEvent: (event) => events.push({ at: clock.now(), observer: id, event }),
        onError: (err) => {
          throw err;
        },
      });
      members.set(id, m);
      return m;
    },
    async join(id, seeds) {
      const m = members.get(id);
      if (!m) throw new Error(`no member ${id}`);
      let settled = false;
      const p = m.join(seeds.map(addressOf)).finally(() => {
        settled = true;
      });
      // Let the promise callbacks run between slices of virtual time.
      for (let t = 0; t < m.config.joinTimeoutMs + 100 && !settled; t += 10) {
        clock.advance(10);
        await Promise.resolve();
      }
      return p;
    },
    run(ms) {
      clock.advance(ms);
    },
    view: (observer, id) => members.get(observer)?.member(id)?.status,
    agree(observers, ids, status) {
      return observers.every((o) => ids.every((id) => id === o || cluster.view(o, id) === status));
    },
    runUntil(done, maxMs, stepMs = 100) {
      const start = clock.now();
      while (!done()) {
        if (clock.now() - start >= maxMs) return undefined;
        clock.advance(stepMs);
      }
      return clock.now() - start;
    },
  };
  return cluster;
}
