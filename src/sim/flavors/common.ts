/**
 * What every simulator flavour shares: its context (the engine and the fault state of the
 * server), small response writers, and the one way injected faults take effect, so `setFault`
 * behaves the same behind the vLLM, TGI and Triton APIs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimEngine } from '../engine.ts';
import type { FaultMode, FaultState } from '../faults.ts';

export interface FlavorContext {
  engine: SimEngine;
  faults: FaultState;
  /** Largest request body, bytes. */
  maxBodyBytes: number;
}

/** Serves every request of one flavour except the simulator's own `/sim/*` paths. */
export type FlavorRoutes = (
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  method: string,
) => Promise<void>;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** A bodiless answer, as health and readiness probes get. */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'content-length': 0 });
  res.end();
}

/** Fault `reset-mid-stream` on a JSON answer: headers and half the body, then the socket is cut. */
export function sendJsonCut(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length });
  res.write(bytes.subarray(0, bytes.length >> 1), () => res.destroy());
}

/**
 * Applies the fault taken for one inference request. Returns true when the request should be
 * served (fault `none` or `reset-mid-stream`, which the serving code applies itself).
 */
export function applyFault(
  mode: FaultMode,
  req: IncomingMessage,
  send500: () => void,
): mode is 'none' | 'reset-mid-stream' {
  if (mode === 'reset-before-headers') {
    req.socket.destroy();
    return false;
  }
  if (mode === 'hang') return false; // the socket stays open until the client or close() ends it
  if (mode === 'error-500') {
    send500();
    return false;
  }
  return true;
}
