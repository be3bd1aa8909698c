/**
 * Serves TGI's `/generate` (one JSON answer) and `/generate_stream` (SSE) from the engine.
 * Stream events are written `data:{...}` with no space and no `[DONE]`; each carries one token,
 * and the last one also `generated_text` and, when asked, `details` (runtime-formats.md 2.3).
 * A client that goes away aborts the engine request.
 */
import type { ServerResponse } from 'node:http';
import { tokenIds } from '../../../core/tokens.ts';
import type { FinishResult, SimEngine } from '../../engine.ts';
import { sendJson, sendJsonCut } from '../common.ts';
import { TgiError, type TgiRequest } from './request.ts';
import type { TgiStats } from './stats.ts';

interface Token {
  id: number;
  text: string;
  logprob: number;
  special: boolean;
}

/** A stable pseudo token for generated text: its id from the shared token rule, a logprob from the id. */
function tokenOf(text: string): Token {
  const id = tokenIds(text)[0] ?? 0;
  return { id, text, logprob: -((id % 4096) / 1024), special: false };
}

const finishReason = (r: FinishResult) => (r.reason === 'stop' ? 'eos_token' : 'length');

export interface GenerateOptions {
  stream: boolean;
  /** Fault `reset-mid-stream`: cut after the first event (or half the JSON body). */
  resetMidStream: boolean;
}

export function serveGenerate(
  res: ServerResponse,
  engine: SimEngine,
  stats: TgiStats,
  p: TgiRequest,
  opts: GenerateOptions,
): void {
  const startSim = engine.simNow();
  let firstTokenSim: number | undefined;
  const tokens: Token[] = [];
  let held: Token | undefined; // a stream event is written once we know whether it is the last
  let index = 0;
  let cut = false;
  const event = (token: Token, generatedText: string | null, details: unknown) => {
    index++;
    const line = `data:${JSON.stringify({ index, token, generated_text: generatedText, details })}\n\n`;
    if (opts.resetMidStream) {
      cut = true;
      res.write(line, () => res.destroy());
    } else res.write(line);
  };
  const onToken = (text: string) => {
    firstTokenSim ??= engine.simNow();
    const token = tokenOf(text);
    if (p.details) tokens.push(token);
    if (!opts.stream || cut) return;
    if (held) event(held, null, null);
    held = token;
  };

  let id: string;
  let done: Promise<FinishResult>;
  try {
    ({ id, done } = engine.submit({
      promptTokenIds: p.promptTokenIds,
      maxTokens: p.maxNewTokens,
      ...(p.seed === undefined ? {} : { seed: p.seed }),
      onToken,
    }));
  } catch (err) {
    stats.fail('validation');
    const e = new TgiError(422, 'validation', `Input validation error: ${(err as Error).message}`);
    return sendJson(res, e.status, e.body());
  }
  let finished = false;
  res.on('close', () => {
    if (!finished) engine.abort(id);
  });
  if (opts.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
  }
  void done.then((r) => {
    finished = true;
    if (r.reason === 'abort' || res.destroyed) return;
    record(engine, stats, p, r, startSim, firstTokenSim);
    const generatedText = (p.returnFullText ? p.inputs : '') + r.text;
    if (opts.stream) {
      if (cut) return;
      const details = p.details
        ? {
            finish_reason: finishReason(r),
            generated_tokens: r.completionTokens,
            seed: p.seed ?? null,
            input_length: r.promptTokens,
          }
        : null;
      event(held ?? { id: 0, text: '', logprob: 0, special: true }, generatedText, details);
      if (!cut) res.end();
      return;
    }
    const body = {
      generated_text: generatedText,
      ...(p.details
        ? {
            details: {
              finish_reason: finishReason(r),
              generated_tokens: r.completionTokens,
              seed: p.seed ?? null,
              prefill: [],
              tokens,
            },
          }
        : {}),
    };
    if (opts.resetMidStream) return sendJsonCut(res, 200, body);
    const totalMs = Math.round((engine.simNow() - startSim) / engine.timeScale);
    sendJson(res, 200, body, {
      'x-compute-type': 'gpu+optimized',
      'x-compute-time': String(totalMs / 1000),
      'x-total-time': String(totalMs),
      'x-prompt-tokens': String(r.promptTokens),
      'x-generated-tokens': String(r.completionTokens),
    });
  });
}

function record(
  engine: SimEngine,
  stats: TgiStats,
  p: TgiRequest,
  r: FinishResult,
  startSim: number,
  firstTokenSim: number | undefined,
): void {
  const endSim = engine.simNow();
  stats.success++;
  stats.duration.observe((endSim - startSim) / 1000);
  if (r.completionTokens > 1 && firstTokenSim !== undefined) {
    stats.meanTimePerToken.observe((endSim - firstTokenSim) / 1000 / (r.completionTokens - 1));
  }
  stats.inputLength.observe(r.promptTokens);
  stats.generatedTokens.observe(r.completionTokens);
  stats.maxNewTokens.observe(p.maxNewTokens);
}
