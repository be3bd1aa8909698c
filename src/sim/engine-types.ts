/**
 * The engine's public types: its options, what a submitted request gets back, and its stats.
 * The implementation is in engine.ts.
 */
import type { EngineCounters } from './engine-counters.ts';
import type { SimClock } from './clock.ts';
import type { GpuProfile } from './profiles.ts';
import type { SimKvEvent } from './kv-events.ts';

export type FinishReason = 'length' | 'stop' | 'abort';

export interface SimEngineOptions {
  model?: string;
  /** A profile name or a custom profile. Default `h100`. */
  profile?: 'h100' | 'a100' | GpuProfile;
  /** Most requests in the running batch. Default: vLLM's for the profile's GPU (sizing.ts). */
  maxNumSeqs?: number;
  /** KV cache size in blocks of 16 tokens. Default: what vLLM fits in the profile's GPU (sizing.ts). */
  kvBlocks?: number;
  /** Token budget of one step (chunked prefill). Default: vLLM's for the profile's GPU (sizing.ts). */
  maxNumBatchedTokens?: number;
  /** Longest prompt + output. Default 8192. */
  maxModelLen?: number;
  enablePrefixCaching?: boolean;
  /** >1 runs faster than real time with the same ratios. Default 1. */
  timeScale?: number;
  seed?: number;
  /** Chance per generated token that the (seeded) model emits EOS early; 0 (default) always runs to max_tokens. */
  stopProbability?: number;
  clock?: SimClock;
  /** Called after every step (for benchmarks and tests). */
  onStep?: (step: StepInfo) => void;
  /**
   * Hears the KV cache's events (vLLM's `BlockStored` / `BlockRemoved` / `AllBlocksCleared`), one
   * batch per engine step that changed the cache, as vLLM's scheduler publishes them.
   */
  onKvEvents?: (events: SimKvEvent[]) => void;
}

export interface StepInfo {
  startSimMs: number;
  durationMs: number;
  tokens: number;
  requests: number;
  prefillTokens: number;
}

export interface SubmitOptions {
  promptTokenIds: readonly number[];
  maxTokens: number;
  /** The request's own seed (OpenAI `seed`), mixed with the engine seed. */
  seed?: number;
  /** Never stop early (vLLM `ignore_eos`). */
  ignoreEos?: boolean;
  /** The answer's own length: EOS after this many tokens (capped by `maxTokens`) unless `ignoreEos`. */
  outputTokens?: number;
  onToken?: (text: string, index: number) => void;
  onFinish?: (result: FinishResult) => void;
}

export interface FinishResult {
  id: string;
  reason: FinishReason;
  promptTokens: number;
  completionTokens: number;
  text: string;
}

export interface EngineStats {
  running: number;
  waiting: number;
  completed: number;
  cancelled: number;
  preemptions: number;
  kvUsage: number;
  freeBlocks: number;
  cachedBlocks: number;
  steps: number;
  simTimeMs: number;
}

export interface SimEngine {
  readonly model: string;
  readonly profile: GpuProfile;
  readonly numBlocks: number;
  readonly blockSize: number;
  readonly maxNumSeqs: number;
  readonly maxNumBatchedTokens: number;
  readonly maxModelLen: number;
  readonly timeScale: number;
  readonly enablePrefixCaching: boolean;
  /** Queues a request; throws `invalid_request` if it could never fit. */
  submit(opts: SubmitOptions): { id: string; done: Promise<FinishResult> };
  /** Cancels a request at any point: frees its blocks, counts it cancelled. False if unknown or finished. */
  abort(id: string): boolean;
  stats(): EngineStats;
  counters(): Readonly<EngineCounters>;
  /** Simulated ms since the engine started. */
  simNow(): number;
  /** Forgets every cached prefix block (vLLM's `/reset_prefix_cache`); emits `AllBlocksCleared`. */
  resetPrefixCache(): void;
  /** Aborts everything and stops timers. */
  close(): void;
}
