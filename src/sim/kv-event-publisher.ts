/**
 * The simulator's KV-event publisher, framed as vLLM's `ZmqEventPublisher`: a ZeroMQ PUB socket
 * sending `[topic, seq (8 bytes big-endian, from 0), msgpack payload]` per batch, and a ROUTER
 * replay socket that answers `[start seq]` (from a DEALER: an empty delimiter frame first) with
 * `[seq, payload]` for every buffered batch from there, then `[-1, empty]`.
 */
import * as zmq from 'zeromq';
import { encodeKvEventBatch, seqFrame, type KvWireShape, type SimKvEvent } from './kv-events.ts';

export interface KvEventPublisherOptions {
  host?: string;
  /** PUB port; 0 picks a free one. */
  port?: number;
  /** ROUTER replay port; 0 picks a free one, `null` has no replay socket. Default 0. */
  replayPort?: number | null;
  /** vLLM's `topic` (default empty: every subscriber gets every batch). */
  topic?: string;
  /** Batches kept for replay (vLLM's `buffer_steps`, 10,000). */
  bufferSteps?: number;
  /** PUB high-water mark (vLLM's `hwm`, 100,000). */
  hwm?: number;
  shape?: KvWireShape;
  /** Seconds since the epoch for `ts`; default wall time. */
  clock?: () => number;
}

export interface KvEventPublisher {
  /** `tcp://host:port` of the PUB socket (what a gpu role's `kvEvents` names). */
  readonly endpoint: string;
  /** `tcp://host:port` of the replay socket, when there is one. */
  readonly replayEndpoint: string | undefined;
  /** Encodes and sends one batch (in order; never throws). */
  publish(events: readonly SimKvEvent[]): void;
  /** Batches sent so far (the next seq). */
  sent(): number;
  close(): Promise<void>;
}

function boundPort(endpoint: string): string {
  return endpoint.slice(endpoint.lastIndexOf(':') + 1);
}

/** Binds the PUB (and replay) sockets on `host` and returns the publisher. */
export async function createKvEventPublisher(
  options: KvEventPublisherOptions = {},
): Promise<KvEventPublisher> {
  const host = options.host ?? '127.0.0.1';
  const topic = Buffer.from(options.topic ?? '', 'utf8');
  const bufferSteps = options.bufferSteps ?? 10_000;
  const clock = options.clock ?? (() => Date.now() / 1000);
  const pub = new zmq.Publisher({ sendHighWaterMark: options.hwm ?? 100_000, linger: 0 });
  await pub.bind(`tcp://${host}:${options.port ?? 0}`);
  const endpoint = `tcp://${host}:${boundPort(pub.lastEndpoint ?? '')}`;
  let replay: zmq.Router | undefined;
  let replayEndpoint: string | undefined;
  if (options.replayPort !== null) {
    replay = new zmq.Router({ linger: 0 });
    await replay.bind(`tcp://${host}:${options.replayPort ?? 0}`);
    replayEndpoint = `tcp://${host}:${boundPort(replay.lastEndpoint ?? '')}`;
  }

  const buffer: Array<[number, Buffer]> = [];
  let seq = 0;
  let closed = false;
  // zeromq.js allows one send in progress per socket: sends are chained.
  let pubChain: Promise<void> = Promise.resolve();
  let replayChain: Promise<void> = Promise.resolve();

  const serveReplay = async (router: zmq.Router) => {
    for await (const frames of router) {
      // [identity, empty delimiter, start seq]; vLLM ignores anything else.
      if (frames.length !== 3) continue;
      const [id, , start] = frames as [Buffer, Buffer, Buffer];
      if (start.length !== 8) continue;
      const from = Number(start.readBigUInt64BE());
      const send = async () => {
        for (const [s, payload] of buffer) {
          if (s >= from) await router.send([id, '', seqFrame(s), payload]);
        }
        await router.send([id, '', seqFrame(-1), '']);
      };
      replayChain = replayChain.then(send, send).catch(() => undefined);
    }
  };
  const replayLoop = replay ? serveReplay(replay).catch(() => undefined) : Promise.resolve();

  return {
    endpoint,
    replayEndpoint,
    publish(events) {
      if (closed || events.length === 0) return;
      const s = seq++;
      const payload = encodeKvEventBatch(events, clock(), { shape: options.shape ?? 'map' });
      buffer.push([s, payload]);
      if (buffer.length > bufferSteps) buffer.shift();
      const send = () => pub.send([topic, seqFrame(s), payload]);
      pubChain = pubChain.then(send, send).catch(() => undefined);
    },
    sent: () => seq,
    async close() {
      if (closed) return;
      closed = true;
      await pubChain;
      pub.close();
      replay?.close();
      await replayLoop;
    },
  };
}
