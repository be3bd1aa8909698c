/**
 * A closed-loop load generator on virtual time, the way genai-perf / AIPerf measure a server at a
 * fixed concurrency: `concurrency` clients each send a request, wait for its last token and send
 * the next at once. Prompts are distinct (no prefix-cache hits, like their synthetic prompts) and
 * every request runs to exactly `outputTokens` (`ignore_eos`). Used by the fidelity benchmark and
 * the tests that check the simulator against published figures; no sockets, no real waiting.
 */
import { createVirtualClock } from './clock.ts';
import { createSimEngine, type SimEngine, type SimEngineOptions } from './engine.ts';
import type { GpuProfile } from './profiles.ts';
import { stepTimeMs } from './step-time.ts';

export interface ClosedLoopOptions {
  concurrency: number;
  promptTokens: number;
  outputTokens: number;
  /** Requests measured after the warm-up ones. */
  requests: number;
  /**
   * Requests completed before measuring starts. Default `2 × concurrency`: the first wave starts
   * on an empty engine (all at once, or with a batch still filling up when spread), and the
   * second still carries that imprint; from the third on the medians no longer move.
   */
  warmup?: number;
  /**
   * Simulated ms over which the clients' first requests are spread evenly. 0 (default) starts them
   * all at once, as genai-perf does; on a simulator whose step times have no noise, requests that
   * start together finish together and stay locked in waves for ever, where on a real server
   * jitter scatters them. Spreading the start over one request's duration gives the scattered
   * steady state at once.
   */
  startSpreadMs?: number;
  /** Engine options (profile, limits); the clock is always a fresh virtual one. */
  engine?: Omit<SimEngineOptions, 'clock' | 'timeScale'>;
}

/** One measured request, in simulated ms. */
export interface RequestTiming {
  ttftMs: number;
  /** genai-perf's inter-token latency: (last token − first token) / (output tokens − 1). */
  itlMs: number;
}

export interface ClosedLoopResult {
  timings: RequestTiming[];
  engine: SimEngine;
  /** Simulated ms from the first measured request's submission to the last one's end. */
  measuredMs: number;
  preemptions: number;
}

let promptSeq = 0;

/** A prompt of `n` token ids that shares no 16-token block with any other prompt made here. */
function distinctPrompt(n: number): number[] {
  const salt = ++promptSeq * 1_000_003;
  return Array.from({ length: n }, (_, i) => (salt + i * 7919) >>> 0);
}

/** Runs the loop to completion on a virtual clock and returns the measured requests' timings. */
export function runClosedLoop(o: ClosedLoopOptions): ClosedLoopResult {
  const clock = createVirtualClock();
  const engine = createSimEngine({ ...o.engine, clock });
  const warmup = o.warmup ?? 2 * o.concurrency;
  const total = warmup + o.requests;
  const timings: RequestTiming[] = [];
  let submitted = 0;
  let finished = 0;
  let measureStart = Number.NaN;
  let measureEnd = 0;

  const send = (): void => {
    const index = submitted++;
    const start = engine.simNow();
    if (index === warmup) measureStart = start;
    let first = Number.NaN;
    engine.submit({
      promptTokenIds: distinctPrompt(o.promptTokens),
      maxTokens: o.outputTokens,
      ignoreEos: true,
      // The virtual clock stands at the end of the step that produced the token.
      onToken: (_text, i) => {
        if (i === 0) first = engine.simNow();
      },
      onFinish: () => {
        finished++;
        const end = engine.simNow();
        if (index >= warmup) {
          const itl = o.outputTokens > 1 ? (end - first) / (o.outputTokens - 1) : 0;
          timings.push({ ttftMs: first - start, itlMs: itl });
          measureEnd = Math.max(measureEnd, end);
        }
        if (submitted < total) send(); // the client sends its next request at once
      },
    });
  };

  const clients = Math.min(o.concurrency, total);
  const spread = o.startSpreadMs ?? 0;
  for (let i = 0; i < clients; i++) {
    if (spread > 0) clock.setTimer((i * spread) / clients, send);
    else send();
  }
  const done = clock.runUntil(() => finished === total, 50_000_000);
  const preemptions = engine.stats().preemptions;
  engine.close();
  if (!done) throw new Error(`closed loop stalled after ${finished} of ${total} requests`);
  return { timings, engine, measuredMs: measureEnd - measureStart, preemptions };
}

/**
 * A request's duration in the steady state of the loop, for `startSpreadMs`: `outputTokens` decode
 * steps of `concurrency` requests at the mean context, plus the prompt's own prefill step. An
 * estimate (it ignores the prefills mixed into decode steps); the spread need not be exact.
 */
export function steadyRequestMs(
  profile: GpuProfile,
  concurrency: number,
  promptTokens: number,
  outputTokens: number,
): number {
  const ctx = promptTokens + outputTokens / 2;
  const decode = stepTimeMs(
    profile,
    Array.from({ length: concurrency }, () => ({ newTokens: 1, contextTokens: ctx })),
  );
  return outputTokens * decode + stepTimeMs(profile, [{ newTokens: promptTokens, contextTokens: 0 }]);
}

/** The median of `xs` (the mean of the two middle values for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}
