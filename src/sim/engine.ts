/**
 * The simulated LLM serving engine: continuous batching over a paged, prefix-cached KV cache, with
 * step times from a GPU profile. It runs against an injected `SimClock`; each step's simulated
 * duration is known exactly, and steps run back to back while there is work (like a real engine
 * loop), with wall-clock deadlines at `simulated / timeScale`. When timers fire late, due steps are
 * caught up in a loop, so coarse timers never change simulated latencies or step ratios.
 */
import { MeshError } from '../core/errors.ts';
import { createRealClock, type TimerId } from './clock.ts';
import { BLOCK_SIZE, blockHashes, createKvCache } from './kv-cache.ts';
import type { SimKvEvent } from './kv-events.ts';
import { GPU_PROFILES } from './profiles.ts';
import { defaultSizing } from './sizing.ts';
import { createRng, mixSeed, pseudoWord, type Rng } from './rng.ts';
import { planStep, type PlannedItem, type SchedRequest } from './scheduler.ts';
import { stepTimeMs } from './step-time.ts';
import { createEngineCounters } from './engine-counters.ts';
import type {
  FinishReason,
  FinishResult,
  SimEngine,
  SimEngineOptions,
  SubmitOptions,
} from './engine-types.ts';

export type {
  EngineStats,
  FinishReason,
  FinishResult,
  SimEngine,
  SimEngineOptions,
  StepInfo,
  SubmitOptions,
} from './engine-types.ts';

interface Req extends SchedRequest {
  id: string;
  maxTokens: number;
  target: number;
  rng: Rng;
  text: string[];
  status: 'waiting' | 'running' | 'done';
  firstTokenSim?: number;
  lastTokenSim?: number;
  opts: SubmitOptions;
  resolve: (r: FinishResult) => void;
}

export function createSimEngine(options: SimEngineOptions = {}): SimEngine {
  const profile =
    typeof options.profile === 'object' ? options.profile : GPU_PROFILES[options.profile ?? 'h100'];
  const clock = options.clock ?? createRealClock();
  const timeScale = options.timeScale ?? 1;
  const seed = options.seed ?? 1;
  // Unset limits are vLLM's own for the profile's GPU, so the engine saturates where vLLM would.
  const sized = defaultSizing(profile, BLOCK_SIZE);
  const limits = {
    maxNumSeqs: options.maxNumSeqs ?? sized.maxNumSeqs,
    maxNumBatchedTokens: options.maxNumBatchedTokens ?? sized.maxNumBatchedTokens,
    enablePrefixCaching: options.enablePrefixCaching ?? true,
  };
  const maxModelLen = options.maxModelLen ?? 8192;
  // KV events of the current step, published when the step's work is done (one batch per step).
  const onKvEvents = options.onKvEvents;
  let kvEvents: SimKvEvent[] = [];
  let removed: number[] | null = null;
  const kv = createKvCache(
    options.kvBlocks ?? sized.kvBlocks,
    BLOCK_SIZE,
    onKvEvents
      ? (h) => {
          if (!removed) kvEvents.push({ type: 'BlockRemoved', blockHashes: (removed = []) });
          removed.push(h);
        }
      : undefined,
  );
  const flushKvEvents = () => {
    removed = null;
    if (!onKvEvents || kvEvents.length === 0) return;
    const batch = kvEvents;
    kvEvents = [];
    onKvEvents(batch);
  };
  const c = createEngineCounters();
  const t0 = clock.now();
  const queues = { running: [] as Req[], waiting: [] as Req[] };
  const requests = new Map<string, Req>();
  let nextId = 1;
  let cursor = 0; // simulated ms at which the engine is next free
  let inFlight: { items: PlannedItem<Req>[]; end: number } | null = null;
  let timer: TimerId | null = null;
  let closed = false;

  const simNow = () => (clock.now() - t0) * timeScale;

  const events = {
    preempted: (r: Req) => {
      r.status = 'waiting';
      c.preemptions++;
    },
    admitted: (r: Req, queried: number, hit: number) => {
      r.status = 'running';
      c.prefixQueries += queried;
      c.prefixHits += hit;
    },
  };

  function startStep(start: number): void {
    let items = planStep(queues, kv, limits, start, events);
    if (items.length === 0 && queues.running.length === 0 && queues.waiting.length > 0) {
      start = Math.max(start, Math.min(...queues.waiting.map((r) => r.arrivalSim)));
      items = planStep(queues, kv, limits, start, events);
    }
    if (items.length === 0) return;
    const duration = stepTimeMs(profile, items);
    inFlight = { items, end: start + duration };
    c.steps++;
    const prefillTokens = items.reduce((n, it) => n + (it.newTokens > 1 ? it.newTokens : 0), 0);
    const tokens = items.reduce((n, it) => n + it.newTokens, 0);
    options.onStep?.({
      startSimMs: start,
      durationMs: duration,
      tokens,
      requests: items.length,
      prefillTokens,
    });
  }

  function arm(): void {
    if (closed || timer !== null) return;
    if (!inFlight) {
      if (queues.running.length === 0 && queues.waiting.length === 0) return;
      // A zero timer lets requests submitted in the same tick join the same step.
      timer = clock.setTimer(0, tick);
      return;
    }
    timer = clock.setTimer(Math.max(0, (inFlight.end - simNow()) / timeScale), tick);
  }

  function tick(): void {
    timer = null;
    // Idle until now: start at the latest arrival, so requests submitted in one tick share a step
    // and the kick timer's own delay never counts as simulated time.
    if (!inFlight) startStep(Math.max(cursor, ...queues.waiting.map((r) => r.arrivalSim)));
    for (let n = 0; inFlight && inFlight.end <= simNow() + 1e-9 && n < 100_000; n++) {
      const done: { items: PlannedItem<Req>[]; end: number } = inFlight;
      inFlight = null;
      cursor = done.end;
      complete(done.items, done.end);
      startStep(cursor); // back to back while there is work
    }
    flushKvEvents();
    arm();
  }

  function complete(items: PlannedItem<Req>[], at: number): void {
    for (const { req, newTokens } of items) {
      if (req.status !== 'running') continue; // aborted or preempted during the step
      req.numComputed += newTokens;
      const fullPromptBlocks = Math.min(
        Math.floor(Math.min(req.numComputed, req.promptLen) / BLOCK_SIZE),
        req.promptHashes.length,
      );
      let stored: Extract<SimKvEvent, { type: 'BlockStored' }> | null = null;
      for (; req.cachedBlocks < fullPromptBlocks; req.cachedBlocks++) {
        const i = req.cachedBlocks;
        const hash = req.promptHashes[i] ?? 0;
        if (!kv.cache(req.blocks[i] ?? -1, hash) || !onKvEvents) {
          stored = null;
          continue;
        }
        // Consecutive newly cached blocks of one request form one BlockStored, as in vLLM.
        if (!stored) {
          removed = null;
          kvEvents.push(
            (stored = {
              type: 'BlockStored',
              blockHashes: [],
              parentBlockHash: i > 0 ? (req.promptHashes[i - 1] ?? null) : null,
              tokenIds: [],
              blockSize: BLOCK_SIZE,
            }),
          );
        }
        stored.blockHashes.push(hash);
        const ids = req.opts.promptTokenIds;
        for (let t = i * BLOCK_SIZE; t < (i + 1) * BLOCK_SIZE; t++) stored.tokenIds.push(ids[t] ?? 0);
      }
      if (req.numComputed === req.promptLen + req.outputCount) emit(req, at);
    }
  }

  function emit(req: Req, at: number): void {
    const index = req.outputCount++;
    const text = pseudoWord(req.rng, index);
    req.text.push(text);
    c.generationTokens++;
    if (req.firstTokenSim === undefined) {
      req.firstTokenSim = at;
      c.promptTokens += req.promptLen;
      c.ttft.observe((at - req.arrivalSim) / 1000);
    } else c.itl.observe((at - (req.lastTokenSim ?? at)) / 1000);
    req.lastTokenSim = at;
    req.opts.onToken?.(text, index);
    if (req.status === 'running' && req.outputCount >= req.target) {
      finish(req, req.target < req.maxTokens ? 'stop' : 'length', at);
    }
  }

  function finish(req: Req, reason: FinishReason, at: number): void {
    if (req.status === 'done') return;
    const list = req.status === 'running' ? queues.running : queues.waiting;
    const i = list.indexOf(req);
    if (i >= 0) list.splice(i, 1);
    req.status = 'done';
    kv.free(req.blocks);
    req.blocks = [];
    requests.delete(req.id);
    c.finished[reason]++;
    if (reason === 'abort') c.cancelled++;
    else {
      c.completed++;
      c.e2e.observe((at - req.arrivalSim) / 1000);
    }
    const result: FinishResult = {
      id: req.id,
      reason,
      promptTokens: req.promptLen,
      completionTokens: req.outputCount,
      text: req.text.join(''),
    };
    req.opts.onFinish?.(result);
    req.resolve(result);
  }

  return {
    model: options.model ?? 'sim-llama-3-8b',
    profile,
    numBlocks: kv.numBlocks,
    blockSize: BLOCK_SIZE,
    maxNumSeqs: limits.maxNumSeqs,
    maxNumBatchedTokens: limits.maxNumBatchedTokens,
    maxModelLen,
    timeScale,
    enablePrefixCaching: limits.enablePrefixCaching,
    submit(opts) {
      if (closed) throw new MeshError('unavailable', 'the simulator engine is closed');
      const promptLen = opts.promptTokenIds.length;
      if (promptLen < 1)
        throw new MeshError('invalid_request', 'the prompt must have at least one token', {
          param: 'prompt',
        });
      if (!Number.isInteger(opts.maxTokens) || opts.maxTokens < 1) {
        throw new MeshError('invalid_request', `max_tokens must be at least 1, got ${opts.maxTokens}.`, {
          param: 'max_tokens',
        });
      }
      const total = promptLen + opts.maxTokens;
      if (total > maxModelLen || Math.ceil(total / BLOCK_SIZE) > kv.numBlocks) {
        const limit = Math.min(maxModelLen, kv.numBlocks * BLOCK_SIZE);
        throw new MeshError(
          'invalid_request',
          `This model's maximum context length is ${limit} tokens. However, you requested ${total} tokens (${promptLen} in the messages, ${opts.maxTokens} in the completion). Please reduce the length of the messages or completion.`,
          { param: 'max_tokens' },
        );
      }
      const rng = createRng(
        mixSeed(
          seed,
          opts.seed ?? 0,
          promptLen,
          ...opts.promptTokenIds.slice(0, 64),
          ...opts.promptTokenIds.slice(-64),
        ),
      );
      let target = opts.maxTokens;
      const p = options.stopProbability ?? 0;
      if (opts.outputTokens !== undefined && !opts.ignoreEos) {
        target = Math.min(opts.maxTokens, opts.outputTokens);
      } else if (p > 0 && !opts.ignoreEos) {
        // Geometric length: the first token at which the seeded "model" emits EOS.
        target = Math.min(
          opts.maxTokens,
          1 + Math.floor(Math.log(1 - rng()) / Math.log(1 - Math.min(p, 0.999999))),
        );
      }
      const id = `req-${nextId++}`;
      let resolve!: (r: FinishResult) => void;
      const done = new Promise<FinishResult>((r) => (resolve = r));
      const req: Req = {
        id,
        promptLen,
        promptHashes: limits.enablePrefixCaching ? blockHashes(opts.promptTokenIds, BLOCK_SIZE) : [],
        arrivalSim: Math.max(simNow(), 0),
        outputCount: 0,
        numComputed: 0,
        blocks: [],
        cachedBlocks: 0,
        maxTokens: opts.maxTokens,
        target,
        rng,
        text: [],
        status: 'waiting',
        opts,
        resolve,
      };
      requests.set(id, req);
      queues.waiting.push(req);
      arm();
      return { id, done };
    },
    abort(id) {
      const req = requests.get(id);
      if (!req) return false;
      finish(req, 'abort', simNow());
      if (!inFlight && timer !== null && queues.running.length + queues.waiting.length === 0) {
        clock.clearTimer(timer);
        timer = null;
      }
      return true;
    },
    stats: () => ({
      running: queues.running.length,
      waiting: queues.waiting.length,
      completed: c.completed,
      cancelled: c.cancelled,
      preemptions: c.preemptions,
      kvUsage: kv.usage(),
      freeBlocks: kv.numFree(),
      cachedBlocks: kv.cachedCount(),
      steps: c.steps,
      simTimeMs: simNow(),
    }),
    counters: () => c,
    simNow,
    resetPrefixCache() {
      kv.clearCached();
      removed = null;
      if (onKvEvents) kvEvents.push({ type: 'AllBlocksCleared' });
      flushKvEvents();
    },
    close() {
      for (const req of [...requests.values()]) finish(req, 'abort', simNow());
      closed = true;
      if (timer !== null) clock.clearTimer(timer);
      timer = null;
      inFlight = null;
    },
  };
}
