/**
 * What scoring wants to know about an inference request, read from its parsed JSON body: prompt
 * size and prefix blocks (by the mesh's one token rule), expected output, and the SLO class and
 * timeout from headers. Only the fields are read; the body is forwarded unchanged.
 */
import { renderChatPrompt, tokenIds, type ChatMessageLike } from '../core/tokens.ts';
import { prefixBlockHashes } from '../scoring/prefix-index.ts';
import type { ScoringRequest } from '../scoring/types.ts';

/** Request features the selector passes to scoring (everything optional). */
export type PickHints = Omit<ScoringRequest, 'model' | 'exclude'>;

/** Header naming the SLO class (`latency` or `throughput`). */
export const SLO_CLASS_HEADER = 'x-mesh-slo-class';
/** Header with the client's timeout in ms; admission keeps predicted waits under it. */
export const TIMEOUT_HEADER = 'x-mesh-timeout-ms';

/** Output tokens assumed when a request sets no `max_tokens` (vLLM's simulator default). */
const DEFAULT_MAX_TOKENS = 256;

export function requestHints(
  body: Record<string, unknown>,
  headers: Readonly<Record<string, string | undefined>> = {},
  blockTokens = 64,
): PickHints {
  let prompt = '';
  let ids: number[] | undefined;
  if (Array.isArray(body.messages)) prompt = renderChatPrompt(body.messages as ChatMessageLike[]);
  else if (typeof body.prompt === 'string') prompt = body.prompt;
  else if (Array.isArray(body.prompt) && typeof body.prompt[0] === 'string') prompt = body.prompt[0];
  else if (Array.isArray(body.prompt) && body.prompt.every((x) => typeof x === 'number')) ids = body.prompt;
  else if (typeof body.inputs === 'string') prompt = body.inputs; // TGI
  ids ??= tokenIds(prompt);
  const max =
    body.max_tokens ??
    body.max_completion_tokens ??
    (body.parameters as { max_new_tokens?: unknown } | undefined)?.max_new_tokens;
  const slo = headers[SLO_CLASS_HEADER];
  const timeout = Number(headers[TIMEOUT_HEADER]);
  return {
    promptTokens: ids.length,
    maxTokens: typeof max === 'number' && max > 0 ? max : DEFAULT_MAX_TOKENS,
    blockHashes: prefixBlockHashes(ids, blockTokens),
    tokenIds: ids,
    ...(slo === 'latency' || slo === 'throughput' ? { sloClass: slo } : {}),
    ...(Number.isFinite(timeout) && timeout > 0 ? { timeoutMs: timeout } : {}),
  };
}
