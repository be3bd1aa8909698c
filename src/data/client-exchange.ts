/**
 * The client side of one inference request, shared by its upstream attempts: whether the client
 * is still there, whether the node stopped the request, and the one `drain` and one `close`
 * listener that serve every backpressure wait and the cancellation of whichever attempts run (two
 * while a request is hedged, one otherwise).
 */
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { MeshError } from '../core/errors.ts';

export class ClientExchange {
  readonly res: ServerResponse;
  readonly requestId: string;
  /** Set once the client has gone (the connection closed before the answer ended). */
  clientGone = false;
  /** The attempts in progress, to resume or abort (at most two: a request and its hedge). */
  private readonly controllers: Dispatcher.DispatchController[] = [];
  /** Adds `connection: close` to the answer (the node is draining). */
  closeConnection = false;
  /** Set when the node ends the request itself (drain timeout): the error the client gets. */
  stopped: MeshError | undefined;

  private readonly onDrain = () => {
    for (const c of this.controllers) if (c.paused) c.resume();
  };
  private readonly onClose = () => {
    if (this.res.writableFinished) return;
    this.clientGone = true;
    this.abortAll(new MeshError('cancelled', 'the client closed the connection'));
  };

  constructor(res: ServerResponse, requestId: string) {
    this.res = res;
    this.requestId = requestId;
    res.on('drain', this.onDrain);
    res.once('close', this.onClose);
  }

  /**
   * Ends the request from this side (the node is shutting down): an attempt in progress is
   * aborted, a committed stream ends with the protocol's error event, an answer not yet begun
   * becomes `error`.
   */
  stop(error: MeshError): void {
    this.stopped = error;
    this.abortAll(error);
  }

  /** An attempt started: client close, drain and backpressure now reach it. */
  attach(controller: Dispatcher.DispatchController): void {
    this.controllers.push(controller);
  }

  /** The attempt ended (or lost a hedge race). */
  detach(controller: Dispatcher.DispatchController): void {
    const i = this.controllers.indexOf(controller);
    if (i >= 0) this.controllers.splice(i, 1);
  }

  private abortAll(error: MeshError): void {
    for (const c of [...this.controllers]) c.abort(error);
  }

  /** Removes the listeners; the exchange is over. */
  close(): void {
    this.res.off('drain', this.onDrain);
    this.res.off('close', this.onClose);
    this.controllers.length = 0;
  }
}
