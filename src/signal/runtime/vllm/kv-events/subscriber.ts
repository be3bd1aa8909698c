/**
 * Subscribes to one runtime's KV events (vLLM `--kv-events-config`, SGLang likewise): a ZeroMQ SUB
 * socket reading `[topic, seq, payload]` messages into an `EndpointBlockState`.
 *
 * Sequence numbers count up from 0 per publisher. A gap means lost batches: they are asked of the
 * replay socket (a DEALER sending `['', start seq]`, answered with `['', seq, payload]`… then seq
 * −1) and applied in order; when there is no replay socket, or it no longer holds them, the set is
 * cleared and marked rebuilding. A subscriber that joins late asks for a replay from seq 0 (the
 * publisher keeps 10,000 batches): a young engine's whole history rebuilds the set exactly. A seq
 * that goes back means the publisher restarted (and the engine's cache with it): the set is
 * cleared. Frames that are not a KV-event message are counted and dropped.
 */
import * as zmq from 'zeromq';
import type { Logger } from '../../../../observability/log.ts';
import type { EndpointBlockState } from './block-state.ts';
import { decodeKvEventBatch, KvDecodeError } from './decode.ts';

export interface KvEventSubscriberOptions {
  /** The PUB socket, `tcp://host:port`. */
  endpoint: string;
  /** The ROUTER replay socket, when the runtime has one. */
  replayEndpoint?: string;
  /** Topic prefix to subscribe to (default empty: everything). */
  topic?: string;
  state: EndpointBlockState;
  logger?: Logger;
  /** How long a replay may take before the set is given up as lost. Default 2000 ms. */
  replayTimeoutMs?: number;
}

export interface KvEventSubscriberCounters {
  batches: number;
  events: number;
  /** Messages that were not `[topic, 8-byte seq, msgpack batch]`, and events that were unreadable. */
  garbage: number;
  gaps: number;
  replayed: number;
  /** Sets given up (lost beyond replay, or publisher restarts). */
  resets: number;
}

export interface KvEventSubscriber {
  /** Connects and reads in the background; returns at once. */
  start(): void;
  stop(): Promise<void>;
  counters(): Readonly<KvEventSubscriberCounters>;
  /** Seq of the last batch applied (−1 before any). */
  lastSeq(): number;
}

function seqOf(frame: Buffer | undefined): number | undefined {
  if (!frame || frame.length !== 8) return undefined;
  return Number(frame.readBigInt64BE());
}

const seqFrame = (seq: number) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(seq));
  return b;
};

export function createKvEventSubscriber(options: KvEventSubscriberOptions): KvEventSubscriber {
  const { state, logger } = options;
  const c: KvEventSubscriberCounters = { batches: 0, events: 0, garbage: 0, gaps: 0, replayed: 0, resets: 0 };
  const replayTimeoutMs = options.replayTimeoutMs ?? 2000;
  let sub: zmq.Subscriber | undefined;
  let loop: Promise<void> | undefined;
  let last = -1;
  let stopped = false;

  /** Decodes and applies one batch; false when the payload is garbage. */
  const applyPayload = (payload: Buffer): boolean => {
    try {
      const batch = decodeKvEventBatch(payload);
      c.garbage += batch.skipped;
      c.batches++;
      c.events += batch.events.length;
      state.apply(batch.events);
      return true;
    } catch (err) {
      if (!(err instanceof KvDecodeError)) throw err;
      c.garbage++;
      return false;
    }
  };

  /** Asks the replay socket for batches `from` … `upTo` − 1; true when all of them were applied. */
  const replay = async (from: number, upTo: number): Promise<boolean> => {
    if (!options.replayEndpoint) return false;
    const dealer = new zmq.Dealer({ receiveTimeout: replayTimeoutMs, linger: 0 });
    try {
      dealer.connect(options.replayEndpoint);
      await dealer.send(['', seqFrame(from)]);
      let next = from;
      for (;;) {
        const frames = await dealer.receive();
        const s = seqOf(frames[1]);
        if (frames.length !== 3 || s === undefined) {
          c.garbage++;
          continue;
        }
        if (s === -1) return next >= upTo;
        if (s < next || s >= upTo) continue; // before the gap, or already seen live
        if (s !== next) return false; // the replay buffer no longer holds the start
        applyPayload(frames[2]!);
        c.replayed++;
        next = s + 1;
      }
    } catch {
      return false; // timed out: treated as lost
    } finally {
      dealer.close();
    }
  };

  const recover = async (from: number, upTo: number) => {
    c.gaps++;
    if (await replay(from, upTo)) return;
    c.resets++;
    logger?.warn(
      { endpoint: options.endpoint, from, upTo },
      'KV events lost beyond replay; rebuilding the block set',
    );
    // Started from nothing: whatever a partial replay applied stays valid, but it is not the whole set.
    state.reset(true);
  };

  const run = async (socket: zmq.Subscriber) => {
    for await (const frames of socket) {
      if (stopped) break;
      const s = seqOf(frames[1]);
      if (frames.length !== 3 || s === undefined || s < 0) {
        c.garbage++;
        continue;
      }
      if (s <= last) {
        if (s === last) continue; // a duplicate
        // The publisher restarted: its engine's cache is new.
        c.resets++;
        state.reset(false);
        last = -1;
      }
      if (s > last + 1) await recover(last + 1, s);
      if (stopped) break;
      if (!applyPayload(frames[2]!)) {
        last = s;
        continue;
      }
      last = s;
    }
  };

  return {
    start() {
      if (loop) return;
      sub = new zmq.Subscriber({ linger: 0 });
      sub.connect(options.endpoint);
      sub.subscribe(options.topic ?? '');
      loop = run(sub).catch((err: unknown) => {
        if (!stopped) logger?.warn({ err, endpoint: options.endpoint }, 'KV event subscriber failed');
      });
    },
    async stop() {
      stopped = true;
      sub?.close();
      await loop;
    },
    counters: () => c,
    lastSeq: () => last,
  };
}
