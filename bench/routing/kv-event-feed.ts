/**
 * The precise-prefix path of the virtual benchmark, in-process: a simulated engine's KV events are
 * encoded in vLLM's wire format (src/sim/kv-events.ts, what the simulator publishes over ZeroMQ),
 * decoded and applied by the gpu role's adapter code (src/signal/runtime/vllm/kv-events), and the
 * resulting block-set deltas reach the router's precise index `delayMs` of virtual time later (the
 * publish → gpu role → StatePlane stream hop). Only the sockets are left out.
 */
import type { Clock } from '../../src/core/clock.ts';
import type { PreciseBlocksUpdate } from '../../src/scoring/precise-prefix-index.ts';
import { createEndpointBlockState } from '../../src/signal/runtime/vllm/kv-events/block-state.ts';
import { decodeKvEventBatch } from '../../src/signal/runtime/vllm/kv-events/decode.ts';
import { encodeKvEventBatch, type SimKvEvent } from '../../src/sim/kv-events.ts';

export interface KvEventFeedOptions {
  endpointId: string;
  sink: { apply(update: PreciseBlocksUpdate): void };
  delayMs: number;
  clock: Clock;
}

/** The engine's `onKvEvents` for one endpoint. */
export function kvEventFeed(o: KvEventFeedOptions): (events: SimKvEvent[]) => void {
  let deltas: PreciseBlocksUpdate[] = [];
  const state = createEndpointBlockState({
    now: () => o.clock.now(),
    onDelta: (d) => deltas.push({ ...d, endpointId: o.endpointId }),
  });
  return (events) => {
    const payload = encodeKvEventBatch(events, o.clock.now() / 1000);
    // Decoded and applied at once (the gpu role does), delivered to the router after the hop.
    state.apply(decodeKvEventBatch(payload).events);
    if (deltas.length === 0) return;
    const batch = deltas;
    deltas = [];
    o.clock.setTimer(o.delayMs, () => batch.forEach((d) => o.sink.apply(d)));
  };
}
