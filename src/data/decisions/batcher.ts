/**
 * Coalesces the messages one event loop turn produces into one `postMessage` (sent from
 * `setImmediate`, after the turn's I/O callbacks): one structured clone and one wake-up of the
 * other thread per turn, however many requests the turn handled.
 */
import type { MessagePort } from 'node:worker_threads';

export interface Batcher<T> {
  send(message: T): void;
}

export function createBatcher<T>(port: MessagePort): Batcher<T> {
  let pending: T[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const batch = pending;
    pending = [];
    port.postMessage(batch);
  };
  return {
    send(message) {
      pending.push(message);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  };
}
