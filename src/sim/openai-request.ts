/**
 * Parses and checks OpenAI-style request bodies the way vLLM's server does, producing one
 * normalised request for the engine. Problems become vLLM-shaped errors (400 BadRequestError,
 * 404 NotFoundError for an unknown model).
 */
import { renderChatPrompt, tokenIds, type ChatMessageLike } from '../core/tokens.ts';

/** `max_tokens` when a request names none (vLLM would use the rest of the context; see docs/SIMULATOR.md). */
export const DEFAULT_MAX_TOKENS = 256;

export interface ParsedRequest {
  kind: 'chat' | 'completion';
  model: string;
  promptTokenIds: number[];
  maxTokens: number;
  stream: boolean;
  includeUsage: boolean;
  continuousUsage: boolean;
  seed?: number;
  ignoreEos: boolean;
  /**
   * `sim_output_tokens`, a simulator-only field: the answer's own length (EOS after it, unless
   * `ignore_eos`). Benchmarks replaying a trace send the true length here and a client-style cap in
   * `max_tokens`, so the router (which reads `max_tokens`, never this) knows no more than in production.
   */
  outputTokens?: number;
  /** Completions only: prepend the prompt to the output. */
  echoPrompt?: string;
}

/** A vLLM error response. */
export class SimHttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  constructor(status: number, type: string, message: string, param: string | null = null) {
    super(message);
    this.status = status;
    this.type = type;
    this.param = param;
  }

  body(): { error: { message: string; type: string; param: string | null; code: number } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.status } };
  }
}

const bad = (message: string, param: string | null = null) =>
  new SimHttpError(400, 'BadRequestError', message, param);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optInt(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw bad(`${key} must be an integer, got ${JSON.stringify(v)}.`, key);
  return v;
}

function optNumber(body: Record<string, unknown>, key: string, min: number, max: number): void {
  const v = body[key];
  if (v === undefined || v === null) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw bad(`${key} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}.`, key);
  }
}

function optBool(body: Record<string, unknown>, key: string): boolean {
  const v = body[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw bad(`${key} must be a boolean.`, key);
  return v;
}

function parseMessages(v: unknown): ChatMessageLike[] {
  if (!Array.isArray(v) || v.length === 0) throw bad('messages must be a non-empty array.', 'messages');
  return v.map((m: unknown, i) => {
    if (!isRecord(m) || typeof m.role !== 'string')
      throw bad(`messages[${i}] must have a string role.`, 'messages');
    const content = m.content;
    if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) {
      throw bad(`messages[${i}].content must be a string or an array of parts.`, 'messages');
    }
    return { role: m.role, content: content as ChatMessageLike['content'] };
  });
}

function parsePrompt(v: unknown): { ids: number[]; text?: string } {
  if (typeof v === 'string') return { ids: tokenIds(v), text: v };
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string')
    return { ids: tokenIds(v[0]), text: v[0] };
  if (
    Array.isArray(v) &&
    v.length > 0 &&
    v.every((t) => typeof t === 'number' && Number.isInteger(t) && t >= 0)
  ) {
    return { ids: v as number[] };
  }
  if (Array.isArray(v) && v.length > 1)
    throw bad('batched prompts are not supported by the simulator; send one prompt.', 'prompt');
  throw bad('prompt must be a string or a list of token ids.', 'prompt');
}

/** Checks a decoded JSON body for `kind`; `served` is the model name the simulator serves. */
export function parseInferenceRequest(
  kind: 'chat' | 'completion',
  body: unknown,
  served: string,
): ParsedRequest {
  if (!isRecord(body)) throw bad('the request body must be a JSON object.');
  const model = body.model ?? served;
  if (typeof model !== 'string') throw bad('model must be a string.', 'model');
  if (model !== served)
    throw new SimHttpError(404, 'NotFoundError', `The model \`${model}\` does not exist.`, 'model');
  const stream = optBool(body, 'stream');
  const so = body.stream_options;
  if (so !== undefined && so !== null) {
    if (!stream) throw bad('Stream options can only be defined when `stream=True`.', 'stream_options');
    if (!isRecord(so)) throw bad('stream_options must be an object.', 'stream_options');
  }
  const streamOptions = isRecord(so) ? so : {};
  const maxTokens =
    (kind === 'chat' ? optInt(body, 'max_completion_tokens') : undefined) ??
    optInt(body, 'max_tokens') ??
    DEFAULT_MAX_TOKENS;
  if (maxTokens < 1) throw bad(`max_tokens must be at least 1, got ${maxTokens}.`, 'max_tokens');
  const n = optInt(body, 'n') ?? 1;
  if (n !== 1) throw bad('n must be 1: the simulator generates one choice per request.', 'n');
  optNumber(body, 'temperature', 0, 2);
  optNumber(body, 'top_p', Number.MIN_VALUE, 1);
  optNumber(body, 'presence_penalty', -2, 2);
  optNumber(body, 'frequency_penalty', -2, 2);
  const seed = optInt(body, 'seed');
  const outputTokens = optInt(body, 'sim_output_tokens');
  if (outputTokens !== undefined && outputTokens < 1)
    throw bad(`sim_output_tokens must be at least 1, got ${outputTokens}.`, 'sim_output_tokens');
  let promptTokenIds: number[];
  let echoPrompt: string | undefined;
  if (kind === 'chat') {
    promptTokenIds = tokenIds(renderChatPrompt(parseMessages(body.messages)));
  } else {
    if (body.prompt === undefined) throw bad('prompt is required.', 'prompt');
    const p = parsePrompt(body.prompt);
    promptTokenIds = p.ids;
    if (optBool(body, 'echo') && p.text !== undefined) echoPrompt = p.text;
  }
  if (promptTokenIds.length === 0) throw bad('the prompt must not be empty.', 'prompt');
  return {
    kind,
    model,
    promptTokenIds,
    maxTokens,
    stream,
    includeUsage: streamOptions.include_usage === true,
    continuousUsage: streamOptions.continuous_usage_stats === true,
    ...(seed === undefined ? {} : { seed }),
    ignoreEos: optBool(body, 'ignore_eos'),
    ...(outputTokens === undefined ? {} : { outputTokens }),
    ...(echoPrompt === undefined ? {} : { echoPrompt }),
  };
}
