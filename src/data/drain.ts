/**
 * The graceful drain of one router server: stop accepting, close keep-alive connections as they
 * fall idle, let the requests in flight finish for up to the drain timeout, then end the rest from
 * this side — a committed SSE stream with the protocol's error event (OpenAI's ends with
 * `data: [DONE]`), an answer not yet begun with a 503 — and only then close what is left.
 */
import type { Server } from 'node:http';
import { MeshError } from '../core/errors.ts';
import type { ClientExchange } from './client-exchange.ts';

export interface DrainReport {
  /** Requests in flight when the drain began. */
  inFlight: number;
  /** Requests the node ended itself at the drain timeout. */
  cut: number;
}

/** How often idle keep-alive connections are closed and the in-flight set is checked. */
const POLL_MS = 25;
/** How long the ended requests get to flush their last bytes before connections are closed. */
const FLUSH_MS = 2000;

export async function drainServer(
  server: Server,
  exchanges: ReadonlySet<ClientExchange>,
  timeoutMs: number,
): Promise<DrainReport> {
  const inFlight = exchanges.size;
  server.close();
  try {
    await settle(server, exchanges, timeoutMs);
    const cut = exchanges.size;
    const stop = new MeshError('unavailable', 'the router shut down before this request finished; retry it');
    for (const exchange of exchanges) exchange.stop(stop);
    await settle(server, exchanges, FLUSH_MS);
    return { inFlight, cut };
  } finally {
    server.closeAllConnections();
  }
}

/** Waits (bounded) until no request is in flight, closing connections as they go idle. */
async function settle(
  server: Server,
  exchanges: ReadonlySet<ClientExchange>,
  timeoutMs: number,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    server.closeIdleConnections();
    if (exchanges.size === 0 || performance.now() >= deadline) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, deadline - performance.now())));
  }
}
