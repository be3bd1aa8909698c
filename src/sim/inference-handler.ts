/**
 * Serves one parsed completion or chat request from the engine, non-stream or as SSE. Streaming
 * respects backpressure the way vLLM's output collector does: while the socket is not writable,
 * new tokens are merged into one pending delta (bounded memory) and sent on 'drain'. A client that
 * goes away before the end aborts the engine request at once.
 */
import type { ServerResponse } from 'node:http';
import { MeshError } from '../core/errors.ts';
import type { FinishResult, SimEngine } from './engine.ts';
import type { ParsedRequest } from './openai-request.ts';
import { SimHttpError } from './openai-request.ts';
import {
  chatCompletion,
  responseId,
  streamChunk,
  textCompletion,
  usage,
  usageChunk,
} from './openai-response.ts';

export interface HandlerOptions {
  /** Cut the connection after the first streamed token (or half of a non-stream body). */
  resetMidStream: boolean;
  /** Seconds since the epoch, for `created`. */
  nowSec: number;
}

/** Sends a vLLM-shaped JSON error. */
export function sendError(res: ServerResponse, err: SimHttpError): void {
  sendJson(res, err.status, err.body());
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function serveInference(
  res: ServerResponse,
  engine: SimEngine,
  p: ParsedRequest,
  opts: HandlerOptions,
): void {
  const meta = { id: responseId(p.kind), created: opts.nowSec, model: p.model };
  let id: string;
  let done: Promise<FinishResult>;
  const stream = p.stream ? createStreamWriter(res, p, meta, opts.resetMidStream) : undefined;
  try {
    ({ id, done } = engine.submit({
      promptTokenIds: p.promptTokenIds,
      maxTokens: p.maxTokens,
      ...(p.seed === undefined ? {} : { seed: p.seed }),
      ignoreEos: p.ignoreEos,
      ...(p.outputTokens === undefined ? {} : { outputTokens: p.outputTokens }),
      ...(stream ? { onToken: stream.token } : {}),
    }));
  } catch (err) {
    const e = MeshError.from(err);
    sendError(
      res,
      new SimHttpError(
        e.httpStatus,
        e.httpStatus === 400 ? 'BadRequestError' : 'InternalServerError',
        e.message,
      ),
    );
    return;
  }
  let finished = false;
  res.on('close', () => {
    if (!finished) engine.abort(id);
  });
  stream?.start();
  void done.then((r) => {
    finished = true;
    if (r.reason === 'abort' || res.destroyed) return;
    if (stream) return stream.finish(r);
    const text = (p.echoPrompt ?? '') + r.text;
    const u = usage(r.promptTokens, r.completionTokens);
    const body =
      p.kind === 'chat' ? chatCompletion(meta, text, r.reason, u) : textCompletion(meta, text, r.reason, u);
    if (!opts.resetMidStream) return sendJson(res, 200, body);
    const bytes = Buffer.from(JSON.stringify(body));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length });
    res.write(bytes.subarray(0, bytes.length >> 1), () => res.destroy());
  });
}

function createStreamWriter(
  res: ServerResponse,
  p: ParsedRequest,
  meta: { id: string; created: number; model: string },
  reset: boolean,
) {
  let pendingText = '';
  let pendingCount = 0;
  let sent = 0;
  let result: FinishResult | undefined;
  let waitingDrain = false;
  let ended = false;
  const promptTokens = p.promptTokenIds.length;
  const send = (obj: object | string, cb?: () => void) =>
    res.write(`data: ${typeof obj === 'string' ? obj : JSON.stringify(obj)}\n\n`, cb);
  const u = () => (p.continuousUsage ? usage(promptTokens, sent) : undefined);

  function flush(): void {
    if (ended || res.destroyed) return;
    if (res.writableNeedDrain) {
      if (!waitingDrain) {
        waitingDrain = true;
        res.once('drain', () => {
          waitingDrain = false;
          flush();
        });
      }
      return;
    }
    if (pendingCount > 0 && !result) {
      sent += pendingCount;
      const delta = { text: pendingText };
      pendingText = '';
      pendingCount = 0;
      if (!reset) send(streamChunk(p.kind, meta, delta, u()));
      else {
        ended = true;
        // Let the chunk reach the wire, then cut the connection.
        send(streamChunk(p.kind, meta, delta, u()), () => res.destroy());
      }
      return;
    }
    if (result) {
      ended = true;
      sent += pendingCount;
      send(streamChunk(p.kind, meta, { text: pendingText, finishReason: result.reason }, u()));
      if (p.includeUsage) send(usageChunk(p.kind, meta, usage(promptTokens, result.completionTokens)));
      send('[DONE]');
      res.end();
    }
  }

  return {
    start(): void {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      res.flushHeaders();
      if (p.kind === 'chat') send(streamChunk('chat', meta, { text: '', role: true }, u()));
      else if (p.echoPrompt !== undefined) send(streamChunk('completion', meta, { text: p.echoPrompt }, u()));
    },
    token: (text: string): void => {
      pendingText += text;
      pendingCount++;
      flush();
    },
    finish: (r: FinishResult): void => {
      result = r;
      flush();
    },
  };
}
