/**
 * HTTP for model lifecycle calls (load, unload, register): unlike scrapes these change the runtime,
 * so they are never retried here, have their own deadline, and fail with `MeshError` codes the
 * control API passes on: `upstream_timeout`, `upstream_error`, and per runtime `not_found` /
 * `invalid_request` / `not_implemented` from the status it answered.
 */
import { request, type Dispatcher } from 'undici';
import { MeshError } from '../../core/errors.ts';
import type { TextResponse } from './http.ts';

export interface SendOptions {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** JSON-encoded when an object. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** One control request; resolves with whatever status the runtime answered. */
export type SendRequest = (url: string, options: SendOptions) => Promise<TextResponse>;

const MAX_BODY = 1024 * 1024;

/** A `SendRequest` over an undici dispatcher, each call bounded by `timeoutMs`. */
export function createSendRequest(dispatcher: Dispatcher, timeoutMs: number): SendRequest {
  return async (url, { method, body, headers = {} }) => {
    const signal = AbortSignal.timeout(timeoutMs);
    const json = body !== undefined;
    try {
      const res = await request(url, {
        method,
        dispatcher,
        signal,
        headers: json ? { 'content-type': 'application/json', ...headers } : headers,
        ...(json ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.body.text();
      const type = res.headers['content-type'];
      return {
        status: res.statusCode,
        contentType: Array.isArray(type) ? type[0] : type,
        body: text.length > MAX_BODY ? text.slice(0, MAX_BODY) : text,
      };
    } catch (err) {
      if (signal.aborted)
        throw new MeshError(
          'upstream_timeout',
          `${method} ${url}: no answer within ${timeoutMs} ms`,
          {},
          { cause: err },
        );
      const message = err instanceof Error ? err.message : String(err);
      throw new MeshError('upstream_error', `${method} ${url}: ${message}`, {}, { cause: err });
    }
  };
}

/** The runtime's own error text: `{"error": "..."}`, OpenAI `{"error": {"message"}}`, `{"message"}`, or the raw body. */
export function runtimeMessage(body: string): string {
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    const err = json.error;
    if (typeof err === 'string') return err;
    if (err && typeof err === 'object' && typeof (err as { message?: unknown }).message === 'string')
      return (err as { message: string }).message;
    for (const key of ['message', 'detail', 'status']) {
      const value = json[key];
      if (typeof value === 'string') return value;
    }
  } catch {
    // not JSON: the text itself
  }
  return body.trim().slice(0, 500);
}

/**
 * Throws the `MeshError` for a non-2xx control answer: 404 → `not_found`, other 4xx →
 * `invalid_request` (the runtime refused), 5xx → `upstream_error`. Returns on 2xx.
 */
export function expectOk(res: TextResponse, what: string): void {
  if (res.status >= 200 && res.status <= 299) return;
  const message = `${what}: runtime answered HTTP ${res.status}: ${runtimeMessage(res.body)}`;
  const details = { status: res.status };
  if (res.status === 404) throw new MeshError('not_found', message, details);
  if (res.status >= 400 && res.status < 500) throw new MeshError('invalid_request', message, details);
  throw new MeshError('upstream_error', message, details);
}
