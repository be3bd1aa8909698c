/**
 * Trace loading for the routing benchmark: the Azure LLM inference CSV (`TIMESTAMP,ContextTokens,
 * GeneratedTokens`) and the Mooncake JSONL (`timestamp` ms, `input_length`, `output_length`,
 * `hash_ids` of 512-token prefix blocks). Mooncake hash ids become synthetic prompts whose token
 * blocks repeat exactly when the ids repeat, so prefix caches (router and simulator) see the
 * trace's real reuse.
 *
 * Mooncake's timestamps are 3-second buckets (every one a multiple of ~3,000 ms, ~10 requests
 * each): the requests of a bucket arrived somewhere within it, not at one instant. Replayed as
 * recorded, each bucket is a burst of simultaneous requests, which one router decides one after
 * the other but several routers split between them, each blind to the others' part (no sharing
 * can see a decision made at the same instant). So by default a bucket's requests are spread
 * over it in file order, evenly with a fixed jitter (`spreadBuckets`); `--bursts` replays the
 * recorded instants.
 */
import { readFileSync } from 'node:fs';
import { createRng, mixSeed } from '../../src/sim/rng.ts';

export interface TraceRequest {
  /** ms since the trace's first request. */
  arrivalMs: number;
  inputTokens: number;
  outputTokens: number;
  /**
   * `max_tokens` the client sends: a cap drawn like real clients' (`clientMaxTokens`), never the
   * true length. The router reads only this; the simulator is told `outputTokens` out of band.
   */
  maxTokens?: number;
  /** Mooncake prefix block ids (512 tokens each); absent for traces without prefix information. */
  hashIds?: number[];
}

export interface Trace {
  name: string;
  file: string;
  format: 'azure' | 'mooncake';
  requests: TraceRequest[];
}

/** How a report describes the arrivals `loadTrace` replayed. */
export function describeArrivals(spreadBuckets: boolean): string {
  return spreadBuckets
    ? "Mooncake's timestamps are 3 s buckets: each bucket's requests are spread over it in file order (traces.ts); Azure's as recorded"
    : "as recorded (--bursts): each Mooncake 3 s bucket's requests arrive at one instant";
}

/** Tokens per Mooncake hash block. */
export const MOONCAKE_BLOCK = 512;

export interface LoadTraceOptions {
  /** Spread requests that share a timestamp over the gap to the next one (default true). */
  spreadBuckets?: boolean;
}

export function loadTrace(file: string, options: LoadTraceOptions = {}): Trace {
  const text = readFileSync(file, 'utf8');
  const base = file.split('/').pop() ?? file;
  if (file.endsWith('.jsonl')) {
    const requests: TraceRequest[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as {
        timestamp: number;
        input_length: number;
        output_length: number;
        hash_ids: number[];
      };
      requests.push({
        arrivalMs: r.timestamp,
        inputTokens: r.input_length,
        outputTokens: r.output_length,
        hashIds: r.hash_ids,
      });
    }
    const t0 = requests[0]?.arrivalMs ?? 0;
    for (const r of requests) r.arrivalMs -= t0; // file order breaks timestamp ties
    if (options.spreadBuckets ?? true) spreadBuckets(requests);
    return { name: `mooncake:${base}`, file, format: 'mooncake', requests };
  }
  const lines = text.split('\n').filter((l) => l.trim());
  const requests: TraceRequest[] = [];
  let t0 = NaN;
  for (const line of lines.slice(1)) {
    const [ts, ctx, gen] = line.split(',');
    // 7 fractional digits: Date parses milliseconds; cut to 23 characters (ms precision is plenty).
    const ms = Date.parse(`${ts!.slice(0, 23).replace(' ', 'T')}Z`);
    if (Number.isNaN(t0)) t0 = ms;
    requests.push({ arrivalMs: ms - t0, inputTokens: Number(ctx), outputTokens: Math.max(1, Number(gen)) });
  }
  return { name: `azure:${base}`, file, format: 'azure', requests };
}

/**
 * Spreads each run of equal timestamps over the gap to the next distinct one: the k requests of a
 * bucket at t arrive at t + gap × (i + u) / k, i in file order, u uniform from a fixed seed (so every
 * benchmark run replays the same arrivals). The last bucket takes the median gap.
 */
function spreadBuckets(requests: TraceRequest[]): void {
  const rng = createRng(0x5b7ead);
  const starts: number[] = [];
  for (let i = 0; i < requests.length; i++)
    if (i === 0 || requests[i]!.arrivalMs !== requests[i - 1]!.arrivalMs) starts.push(i);
  const gaps = starts.slice(1).map((s, j) => requests[s]!.arrivalMs - requests[starts[j]!]!.arrivalMs);
  const medianGap = [...gaps].sort((a, b) => a - b)[gaps.length >> 1] ?? 0;
  starts.forEach((start, j) => {
    const end = starts[j + 1] ?? requests.length;
    const gap = gaps[j] ?? medianGap;
    const t = requests[start]!.arrivalMs;
    const k = end - start;
    for (let i = 0; i < k; i++) requests[start + i]!.arrivalMs = t + (gap * (i + rng())) / k;
  });
}

/** Mixes two 32-bit values into a token id. */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Prompt token ids for request `index`: Mooncake block `h` always expands to the same 512 ids
 * (truncated to `inputTokens`); a request without hash ids gets ids unique to it.
 */
export function promptTokenIds(r: TraceRequest, index: number): number[] {
  const ids = new Array<number>(r.inputTokens);
  for (let t = 0; t < r.inputTokens; t++) {
    const block = Math.floor(t / MOONCAKE_BLOCK);
    const key = r.hashIds?.[block] ?? mix(-1 - index, block);
    ids[t] = mix(key, t % MOONCAKE_BLOCK);
  }
  return ids;
}

/**
 * Round `max_tokens` caps clients commonly send (SDK examples, chat UIs and agent frameworks use
 * powers of two from 256 to 4,096). Both traces' longest answers are 2,000 tokens, so some cap
 * always fits.
 */
export const CLIENT_MAX_TOKEN_CAPS = [256, 512, 1024, 2048, 4096] as const;

/**
 * The cap a client sends for an answer of `outputTokens`: uniform over the common caps at least as
 * long as the answer (a client that set a shorter cap would have had its answer cut, and the trace
 * records the answer's real length). So the router learns an upper bound 1–16× the true length,
 * never the length itself; past 4,096 the cap is the next multiple of 4,096.
 */
export function clientMaxTokens(outputTokens: number, rng: () => number): number {
  const fits = CLIENT_MAX_TOKEN_CAPS.filter((c) => c >= outputTokens);
  if (fits.length === 0) return Math.ceil(outputTokens / 4096) * 4096;
  return fits[Math.min(fits.length - 1, Math.floor(rng() * fits.length))]!;
}

/**
 * The requests of one seed: `count` consecutive requests of the trace from an offset drawn from
 * `seed` (seed 1 starts at the beginning, as the earlier single-seed runs did), arrivals rebased to
 * 0, each with a client `max_tokens` cap drawn from `seed`.
 */
export function sampleRequests(trace: Trace, count: number, seed: number): TraceRequest[] {
  const rng = createRng(mixSeed(seed, 0x7ace));
  const room = Math.max(0, trace.requests.length - count);
  const offset = seed === 1 ? 0 : Math.floor(rng() * (room + 1));
  const window = trace.requests.slice(offset, offset + count);
  const t0 = window[0]?.arrivalMs ?? 0;
  return window.map((r) => ({
    ...r,
    arrivalMs: r.arrivalMs - t0,
    maxTokens: clientMaxTokens(r.outputTokens, rng),
  }));
}
