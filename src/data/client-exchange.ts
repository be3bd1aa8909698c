/**
 * The client side of one inference request, shared by its upstream attempts: whether the client
 * is still there, whether the node stopped the request, and the one `drain` and one `close`
 * listener that serve every backpressure wait and the cancellation of whichever attempt runs.
 */
import type { ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { MeshError } from '../core/errors.ts';

export class ClientExchange {
  readonly res: ServerResponse;
  readonly requestId: string;
  /** Set once the client has gone (the connection closed before the answer ended). */
  clientGone = false;
  /** The attempt in progress, to pause, resume or abort. */
  controller: Dispatcher.DispatchController | undefined;
  /** Adds `connection: close` to the answer (the node is draining). */
  closeConnection = false;
  /** Set when the node ends the request itself (drain timeout): the error the client gets. */
  stopped: MeshError | undefined;

  private readonly onDrain = () => {
    if (this.controller?.paused) this.controller.resume();
  };
  private readonly onClose = () => {
    if (this.res.writableFinished) return;
    this.clientGone = true;
    this.controller?.abort(new MeshError('cancelled', 'the client closed the connection'));
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
    this.controller?.abort(error);
  }

  /** Removes the listeners; the exchange is over. */
  close(): void {
    this.res.off('drain', this.onDrain);
    this.res.off('close', this.onClose);
    this.controller = undefined;
  }
}
