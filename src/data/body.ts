/**
 * Reading and parsing inference request bodies: size-limited before parsing (413), JSON checked
 * (400), and only the fields routing needs are looked at; the body is forwarded byte for byte.
 * Where the model is read is each protocol's business (`protocols/`).
 */
import type { IncomingMessage } from 'node:http';
import { MeshError } from '../core/errors.ts';

/**
 * Reads the whole body, failing fast with `payload_too_large` once it passes `limit` bytes (the
 * rest is not read: the caller answers and closes). A client that hangs up mid-upload is
 * `cancelled` (499), not a server fault. One chunk, the usual case, is returned without a copy.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done();
        req.pause();
        reject(tooLarge(limit));
      } else if (first === undefined) first = chunk;
      else (chunks ??= [first]).push(chunk);
    };
    const onEnd = () => {
      done();
      resolve(chunks ? Buffer.concat(chunks, size) : (first ?? EMPTY));
    };
    const onGone = () => {
      done();
      reject(new MeshError('cancelled', 'the client closed the connection during the upload'));
    };
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onGone);
    // 'close' before 'end' means the socket went away with the body half read.
    req.once('close', onGone);
  });
}

const EMPTY = Buffer.alloc(0);

function tooLarge(limit: number): MeshError {
  return new MeshError('payload_too_large', `request body is larger than ${limit} bytes`, { limit });
}

/** Parses a JSON object body; anything else is `invalid_request`. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0)
    throw new MeshError('invalid_request', 'request body is empty; expected a JSON object');
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new MeshError('invalid_request', `request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MeshError('invalid_request', 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Only JSON bodies are routed; anything else is `unsupported_media_type` (415). Absent means JSON. */
export function requireJsonContentType(contentType: string | undefined): void {
  const value = contentType ?? 'application/json';
  if (!/^application\/json\b/i.test(value)) {
    throw new MeshError('unsupported_media_type', `expected content-type application/json, got ${value}`);
  }
}
