/**
 * Reads a request body as JSON, bounded by `limit` bytes, for every simulator flavour. Never
 * throws: the caller answers a failure in its runtime's own error shape.
 */
import type { IncomingMessage } from 'node:http';

export type JsonBody = { ok: true; value: unknown } | { ok: false; status: number; message: string };

export async function readJson(req: IncomingMessage, limit: number): Promise<JsonBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return { ok: false, status: 413, message: `request body larger than ${limit} bytes` };
    chunks.push(chunk);
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
  } catch (err) {
    return { ok: false, status: 400, message: `JSON decode error: ${(err as Error).message}` };
  }
}
