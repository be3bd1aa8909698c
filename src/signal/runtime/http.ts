/**
 * GET with a size limit, for scrapes. Transport failures become ScrapeErrors with a reason that
 * says where it broke: before the response (`connect`), while reading it (`body`), or because the
 * scrape's time ran out (`timeout`). The status code is returned, not judged: a 503 from /health
 * means something else than a 503 from /metrics.
 */
import { request, type Dispatcher } from 'undici';
import { ScrapeError } from './scrape-error.ts';

export interface GetTextOptions {
  signal: AbortSignal;
  /** Bodies larger than this fail with reason `body`. */
  maxBytes: number;
  accept?: string;
  /** Default GET; POST for read-only queries that the runtime only serves as POST (Triton's repository index). */
  method?: 'GET' | 'POST';
  /** A JSON body for a POST. */
  body?: string;
}

export interface TextResponse {
  status: number;
  contentType: string | undefined;
  body: string;
}

export type GetText = (url: string, options: GetTextOptions) => Promise<TextResponse>;

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

function classify(err: unknown, signal: AbortSignal, phase: 'connect' | 'body', url: string): ScrapeError {
  if (err instanceof ScrapeError) return err;
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    return reason instanceof ScrapeError
      ? reason
      : new ScrapeError('timeout', `${url}: aborted`, { cause: err });
  }
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
  const message = `${url}: ${err instanceof Error ? err.message : String(err)}${code ? ` (${code})` : ''}`;
  return new ScrapeError(TIMEOUT_CODES.has(code) ? 'timeout' : phase, message, { cause: err });
}

/** Drops a body we will not read; the listener keeps undici's abort error from becoming an uncaught exception. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** A `GetText` over an undici dispatcher (one Agent per scraper keeps connections warm between scrapes). */
export function createGetText(dispatcher: Dispatcher): GetText {
  return async (url, { signal, maxBytes, accept, method = 'GET', body }) => {
    let res: Dispatcher.ResponseData;
    const headers: Record<string, string> = accept ? { accept } : {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      res = await request(url, {
        method,
        signal,
        dispatcher,
        headers,
        ...(body === undefined ? {} : { body }),
      });
    } catch (err) {
      throw classify(err, signal, 'connect', url);
    }
    const declared = Number(header(res.headers['content-length']));
    if (declared > maxBytes) {
      discard(res.body);
      throw new ScrapeError('body', `${url}: body of ${declared} bytes exceeds the ${maxBytes}-byte limit`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes) throw new ScrapeError('body', `${url}: body exceeds the ${maxBytes}-byte limit`);
        chunks.push(chunk);
      }
    } catch (err) {
      discard(res.body);
      throw classify(err, signal, 'body', url);
    }
    return {
      status: res.statusCode,
      contentType: header(res.headers['content-type']),
      body: Buffer.concat(chunks).toString('utf8'),
    };
  };
}
