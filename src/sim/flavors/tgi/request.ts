/**
 * Parses TGI's generate request (`{"inputs": "...", "parameters": {...}}`) the way TGI's
 * validation does, and TGI's error type: `{"error": "...", "error_type": "..."}` with 422 for
 * validation, 429 overloaded, 500 for a generation failure.
 */
import { tokenIds } from '../../../core/tokens.ts';

/** TGI's `max_new_tokens` default. */
export const TGI_DEFAULT_MAX_NEW_TOKENS = 100;

export interface TgiRequest {
  inputs: string;
  promptTokenIds: number[];
  maxNewTokens: number;
  details: boolean;
  returnFullText: boolean;
  seed?: number;
}

/** An error answer in TGI's `ErrorResponse` shape. */
export class TgiError extends Error {
  readonly status: number;
  readonly errorType: string;
  constructor(status: number, errorType: string, message: string) {
    super(message);
    this.status = status;
    this.errorType = errorType;
  }

  body(): { error: string; error_type: string } {
    return { error: this.message, error_type: this.errorType };
  }
}

const invalid = (message: string) => new TgiError(422, 'validation', `Input validation error: ${message}`);

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function optBool(params: Record<string, unknown>, key: string): boolean {
  const v = params[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw invalid(`\`${key}\` must be a boolean`);
  return v;
}

/** Checks a decoded body; `maxTotalTokens` is the longest prompt + output the model takes. */
export function parseTgiRequest(body: unknown, maxTotalTokens: number): TgiRequest {
  if (!isRecord(body)) throw invalid('the request body must be a JSON object');
  const inputs = body.inputs;
  if (typeof inputs !== 'string') throw invalid('`inputs` must be a string');
  if (inputs.length === 0) throw invalid('`inputs` cannot be empty');
  const params = body.parameters ?? {};
  if (!isRecord(params)) throw invalid('`parameters` must be an object');
  const mnt = params.max_new_tokens ?? TGI_DEFAULT_MAX_NEW_TOKENS;
  if (typeof mnt !== 'number' || !Number.isInteger(mnt)) throw invalid('`max_new_tokens` must be an integer');
  if (mnt < 1) throw invalid('`max_new_tokens` must be strictly positive');
  const seed = params.seed;
  if (
    seed !== undefined &&
    seed !== null &&
    (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0)
  ) {
    throw invalid('`seed` must be a non-negative integer');
  }
  const promptTokenIds = tokenIds(inputs);
  if (promptTokenIds.length + mnt > maxTotalTokens) {
    throw invalid(
      `\`inputs\` tokens + \`max_new_tokens\` must be <= ${maxTotalTokens}. Given: ${promptTokenIds.length} \`inputs\` tokens and ${mnt} \`max_new_tokens\``,
    );
  }
  return {
    inputs,
    promptTokenIds,
    maxNewTokens: mnt,
    details: optBool(params, 'details'),
    returnFullText: optBool(params, 'return_full_text'),
    ...(typeof seed === 'number' ? { seed } : {}),
  };
}
