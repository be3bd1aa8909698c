/**
 * One attempt of a request on one endpoint, as an undici dispatch handler: the body goes out, the
 * answer is held back until its first body byte (so a failure before it can still be retried
 * elsewhere), then committed and relayed chunk by chunk straight from the upstream socket's reads
 * to the client's socket — no stream objects, no per-chunk promises. Backpressure pauses the
 * upstream read until the client drains; the listener for that is installed once per request
 * (`client-exchange.ts`), never per wait.
 */
import type { Dispatcher } from 'undici';
import { MeshError } from '../core/errors.ts';
import type { ClientExchange } from './client-exchange.ts';
import type { ClientProtocol } from './protocols/index.ts';

/** Upstream response headers passed on to the client. */
const RELAYED_RESPONSE_HEADERS = ['content-type', 'content-length', 'cache-control'] as const;
/** Bytes of a failed (5xx) upstream answer kept for the error message. */
const FAILED_BODY_EXCERPT = 200;

/** How an attempt ended. */
export type AttemptResult =
  /** Failed before its first byte: nothing reached the client, another endpoint may be tried. */
  | { committed: false; error: MeshError }
  /**
   * The answer reached the client, whole or (with `error`) cut: failed mid-way, or the client
   * left. `status` is the upstream's.
   */
  | { committed: true; status: number; error?: MeshError };

export interface AttemptTarget {
  endpointId: string;
  pool: Dispatcher;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  protocol: ClientProtocol;
  /** The client asked for a stream; an SSE answer then ends with the protocol's error event on failure. */
  stream: boolean;
  /** Called at the first body byte, as the answer is committed; `sse` when it is an event stream. */
  onCommit(status: number, sse: boolean): void;
  /** The request went out on a connection: the hedge race holds its controller to cancel it. */
  onStart?(controller: Dispatcher.DispatchController): void;
  /**
   * Asked once, just before the answer would be committed: false when another attempt of the same
   * request (its hedge) committed first; this attempt is then aborted and resolves uncommitted.
   */
  claim?(): boolean;
  /** Each chunk of the committed answer, as it is relayed (a watched decision counts tokens). */
  onData?(chunk: Buffer): void;
}

/** Sends `target`'s request and relays its answer into `exchange`; never rejects. */
export function attempt(exchange: ClientExchange, target: AttemptTarget): Promise<AttemptResult> {
  return new Promise((resolve) => {
    target.pool.dispatch(
      { method: 'POST', path: target.path, headers: target.headers, body: target.body },
      new AttemptHandler(exchange, target, resolve),
    );
  });
}

class AttemptHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  private upstreamHeaders: Record<string, string | string[] | undefined> = {};
  private committed = false;
  private sse = false;
  private failedBody = '';
  private controller: Dispatcher.DispatchController | undefined;
  private settled = false;
  private readonly exchange: ClientExchange;
  private readonly target: AttemptTarget;
  private readonly resolve: (result: AttemptResult) => void;

  constructor(exchange: ClientExchange, target: AttemptTarget, resolve: (result: AttemptResult) => void) {
    this.exchange = exchange;
    this.target = target;
    this.resolve = (result) => {
      if (this.settled) return;
      this.settled = true;
      if (this.controller) exchange.detach(this.controller);
      resolve(result);
    };
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    const { exchange } = this;
    this.controller = controller;
    exchange.attach(controller);
    this.target.onStart?.(controller);
    if (exchange.clientGone) controller.abort(new MeshError('cancelled', 'the client closed the connection'));
    else if (exchange.stopped) controller.abort(exchange.stopped);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    status: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.status = status;
    this.upstreamHeaders = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.status >= 500) {
      if (this.failedBody.length < FAILED_BODY_EXCERPT)
        this.failedBody += chunk.toString('utf8', 0, FAILED_BODY_EXCERPT);
      return;
    }
    if (this.settled) return;
    if (!this.committed && !this.commit(controller)) return;
    this.target.onData?.(chunk);
    // Paused until the client drains: ClientExchange's one `drain` listener resumes it.
    if (!this.exchange.res.write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    if (this.status >= 500) {
      const excerpt = this.failedBody.slice(0, FAILED_BODY_EXCERPT);
      const message = `endpoint ${this.target.endpointId} answered ${this.status}: ${excerpt}`;
      this.resolve({ committed: false, error: new MeshError('upstream_error', message) });
      return;
    }
    if (this.settled) return;
    if (!this.committed && !this.commit(this.controller)) return;
    this.exchange.res.end();
    this.resolve({ committed: true, status: this.status });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    const { exchange } = this;
    const error = exchange.clientGone
      ? new MeshError('cancelled', 'the client closed the connection')
      : (exchange.stopped ?? upstreamError(err, this.target.endpointId));
    if (!this.committed) {
      this.resolve({ committed: false, error });
      return;
    }
    if (!exchange.clientGone) {
      if (this.sse) {
        const event =
          exchange.stopped ?? new MeshError(error.code, `upstream failed mid-stream: ${error.message}`);
        exchange.res.end(this.target.protocol.streamError(event));
      } else {
        exchange.res.destroy(error);
      }
    }
    this.resolve({ committed: true, status: this.status, error });
  }

  /** Commits the answer to the client; false (and this attempt aborted) when its hedge won. */
  private commit(controller: Dispatcher.DispatchController | undefined): boolean {
    if (this.target.claim && !this.target.claim()) {
      const lost = new MeshError('cancelled', 'another attempt of this request answered first');
      this.resolve({ committed: false, error: lost });
      controller?.abort(lost);
      return false;
    }
    this.committed = true;
    const { res, requestId } = this.exchange;
    const headers = this.upstreamHeaders;
    const out: string[] = ['x-request-id', requestId, 'x-infermesh-endpoint', this.target.endpointId];
    for (const name of RELAYED_RESPONSE_HEADERS) {
      const value = headers[name];
      if (typeof value === 'string') out.push(name, value);
    }
    if (this.exchange.closeConnection) out.push('connection', 'close');
    res.writeHead(this.status, out);
    // The protocol expects a stream and the endpoint confirms it: a JSON error answer stays JSON.
    const contentType = headers['content-type'];
    this.sse =
      this.target.stream && typeof contentType === 'string' && contentType.startsWith('text/event-stream');
    this.target.onCommit(this.status, this.sse);
    return true;
  }
}

/** A transport failure as a mesh error: timeouts are `upstream_timeout`, the rest `upstream_error`. */
export function upstreamError(err: unknown, endpoint: string): MeshError {
  if (err instanceof MeshError) return err;
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new MeshError(
      'upstream_timeout',
      `endpoint ${endpoint} timed out: ${message}`,
      {},
      { cause: err },
    );
  }
  return new MeshError('upstream_error', `endpoint ${endpoint} failed: ${message}`, {}, { cause: err });
}
