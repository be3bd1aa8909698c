/**
 * The load generator of `--mode real`: sends each trace request at its scheduled wall time through
 * an undici Pool (one per router, round robin, with `--routers`) (open loop, bounded concurrency, every request time-limited), streaming
 * `/v1/completions` with `stream_options.include_usage`, and measures TTFT, ITL and end-to-end
 * latency from the SSE chunks as they reach the client. Prompts are the token ids of
 * `promptTokenIds()` sent as they are, so repeated Mooncake blocks are the exact same tokens for
 * the router's prefix index and the simulators' prefix caches.
 */
import { Pool } from 'undici';
import { promptTokenIds, type TraceRequest } from './traces.ts';

export interface LoadOptions {
  routerUrl: string;
  /** Several active-active routers: request i goes to `routerUrls[i % n]` (round robin). */
  routerUrls?: readonly string[];
  /** Request bodies (`requestBodies`), in trace order. */
  bodies: readonly Buffer[];
  /** Wall ms after the start at which request i is sent (non-decreasing). */
  sendAtMs: readonly number[];
  /** Most requests in flight; a request over it waits, and its wait counts in its latency. */
  maxConcurrency: number;
  /** Wall ms a request may take, from its scheduled send to its last byte. */
  timeoutMs: number;
}

export type RealStatus = 'ok' | 'rejected' | 'unavailable' | 'timeout' | 'error';

/** One request as the client saw it; times in wall ms from the request's scheduled send time. */
export interface RealRecord {
  status: RealStatus;
  /** HTTP status (0 when none arrived). */
  httpStatus: number;
  ttftMs: number;
  e2eMs: number;
  /** Mean gap between tokens: (e2e − ttft) / (tokens − 1). */
  itlMs: number;
  outputTokens: number;
  /** `x-infermesh-endpoint` of the answer. */
  endpoint: string;
  /** How late the client sent it (concurrency bound, event-loop delay), wall ms. */
  sendLagMs: number;
  error?: string;
}

export interface LoadResult {
  records: RealRecord[];
  /** Wall ms from the start to the last request's end. */
  makespanMs: number;
  /** Most requests the client had in flight at once. */
  peakInFlight: number;
}

const TAIL_BYTES = 8192;

/**
 * The body of every request, built once per trace and reused by every run: building a 100k-token
 * prompt takes milliseconds, which at a time scale of S would be S times as many simulated ms of
 * client delay.
 */
export function requestBodies(model: string, requests: readonly TraceRequest[]): Buffer[] {
  return requests.map((r, i) =>
    Buffer.from(
      JSON.stringify({
        model,
        prompt: promptTokenIds(r, i),
        // A client's cap, as in virtual mode; the answer's true length goes in the simulator-only
        // `sim_output_tokens`, which the router never reads (docs/SIMULATOR.md).
        max_tokens: r.maxTokens ?? r.outputTokens,
        sim_output_tokens: r.outputTokens,
        stream: true,
        stream_options: { include_usage: true },
      }),
    ),
  );
}

/** Reads an SSE body: the time of the first chunk with text, the last byte, the usage and any error. */
async function readStream(body: AsyncIterable<Buffer>, t0: number) {
  let ttft = NaN;
  let head = '';
  // After the first token only the tail is kept: it holds the finish, usage and [DONE] events.
  const tail: Buffer[] = [];
  let tailBytes = 0;
  for await (const chunk of body) {
    if (Number.isNaN(ttft)) {
      head += chunk.toString('utf8');
      const events = head.split('\n\n');
      head = events.pop() ?? '';
      for (const e of events) {
        if (!e.startsWith('data: {')) continue;
        const ev = JSON.parse(e.slice(6)) as { choices?: Array<{ text?: string }> };
        if (ev.choices?.[0]?.text) {
          ttft = performance.now() - t0;
          break;
        }
      }
    }
    tail.push(chunk);
    tailBytes += chunk.length;
    while (tail.length > 1 && tailBytes - tail[0]!.length >= TAIL_BYTES) tailBytes -= tail.shift()!.length;
  }
  const end = performance.now() - t0;
  let tokens = NaN;
  let error: string | undefined;
  for (const e of Buffer.concat(tail).toString('utf8').split('\n\n')) {
    if (!e.startsWith('data: {') || !/"usage"|"error"/.test(e)) continue;
    try {
      const ev = JSON.parse(e.slice(6)) as { usage?: { completion_tokens?: number }; error?: unknown };
      if (ev.error) error = JSON.stringify(ev.error);
      if (typeof ev.usage?.completion_tokens === 'number') tokens = ev.usage.completion_tokens;
    } catch {
      // An event cut at the tail's start; the usage event is always whole at the end.
    }
  }
  if (Number.isNaN(tokens) && !error) error = 'stream ended without usage';
  return { ttft, end, tokens, error };
}

/** Replays `requests` against the router; resolves when every request has ended or timed out. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const urls = o.routerUrls && o.routerUrls.length > 0 ? o.routerUrls : [o.routerUrl];
  const pools = urls.map(
    (url) =>
      new Pool(url, {
        connections: o.maxConcurrency,
        pipelining: 1,
        headersTimeout: o.timeoutMs,
        bodyTimeout: o.timeoutMs,
      }),
  );
  const records: RealRecord[] = new Array<RealRecord>(o.bodies.length);
  let inFlight = 0;
  let peak = 0;
  let lastEnd = 0;
  const slotWaiters: Array<() => void> = [];
  const start = performance.now();

  const one = async (i: number, scheduled: number): Promise<void> => {
    const sendLagMs = performance.now() - scheduled;
    const rec: RealRecord = {
      status: 'error',
      httpStatus: 0,
      ttftMs: NaN,
      e2eMs: NaN,
      itlMs: NaN,
      outputTokens: 0,
      endpoint: '',
      sendLagMs,
    };
    records[i] = rec;
    const remaining = Math.max(1, Math.ceil(o.timeoutMs - (performance.now() - scheduled)));
    try {
      const res = await pools[i % pools.length]!.request({
        path: '/v1/completions',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: o.bodies[i]!,
        signal: AbortSignal.timeout(remaining),
      });
      rec.httpStatus = res.statusCode;
      rec.endpoint = String(res.headers['x-infermesh-endpoint'] ?? '');
      if (res.statusCode !== 200) {
        const text = await res.body.text();
        rec.status = res.statusCode === 429 ? 'rejected' : res.statusCode === 503 ? 'unavailable' : 'error';
        if (rec.status === 'error') rec.error = `${res.statusCode} ${text.slice(0, 200)}`;
        return;
      }
      const s = await readStream(res.body, scheduled);
      rec.ttftMs = s.ttft;
      rec.e2eMs = s.end;
      rec.outputTokens = Number.isNaN(s.tokens) ? 0 : s.tokens;
      rec.itlMs = s.tokens > 1 ? (s.end - s.ttft) / (s.tokens - 1) : 0;
      if (s.error) rec.error = s.error;
      else rec.status = 'ok';
    } catch (err) {
      const e = err as Error & { code?: string };
      const timedOut =
        e.name === 'TimeoutError' ||
        e.code === 'UND_ERR_HEADERS_TIMEOUT' ||
        e.code === 'UND_ERR_BODY_TIMEOUT' ||
        (e.name === 'AbortError' && performance.now() - scheduled >= o.timeoutMs - 1);
      rec.status = timedOut ? 'timeout' : 'error';
      rec.error = `${e.code ?? e.name}: ${e.message}`;
    } finally {
      lastEnd = Math.max(lastEnd, performance.now());
    }
  };

  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < o.bodies.length; i++) {
    const scheduled = start + o.sendAtMs[i]!;
    const wait = scheduled - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    while (inFlight >= o.maxConcurrency) await new Promise<void>((r) => slotWaiters.push(r));
    inFlight++;
    peak = Math.max(peak, inFlight);
    pending.push(
      one(i, scheduled).finally(() => {
        inFlight--;
        slotWaiters.shift()?.();
      }),
    );
  }
  await Promise.all(pending);
  await Promise.all(pools.map((p) => p.destroy()));
  return { records, makespanMs: lastEnd - start, peakInFlight: peak };
}
