/**
 * JSON bodies of vLLM's OpenAI-compatible responses (non-stream objects and stream chunks), with
 * the vLLM-specific fields (`stop_reason`, `reasoning_content`, `prompt_logprobs`, ...).
 */
import { randomBytes } from 'node:crypto';

export interface Usage {
  prompt_tokens: number;
  total_tokens: number;
  completion_tokens: number;
}

export function usage(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    total_tokens: promptTokens + completionTokens,
    completion_tokens: completionTokens,
  };
}

/** A response id the way vLLM makes them: a prefix and 32 hex digits. */
export function responseId(kind: 'chat' | 'completion'): string {
  return `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomBytes(16).toString('hex')}`;
}

interface Meta {
  id: string;
  created: number;
  model: string;
}

export function chatCompletion(m: Meta, text: string, finishReason: string, u: Usage): object {
  return {
    id: m.id,
    object: 'chat.completion',
    created: m.created,
    model: m.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', reasoning_content: null, content: text, tool_calls: [] },
        logprobs: null,
        finish_reason: finishReason,
        stop_reason: null,
      },
    ],
    usage: { ...u, prompt_tokens_details: null },
    prompt_logprobs: null,
  };
}

export function textCompletion(m: Meta, text: string, finishReason: string, u: Usage): object {
  return {
    id: m.id,
    object: 'text_completion',
    created: m.created,
    model: m.model,
    choices: [
      {
        index: 0,
        text,
        logprobs: null,
        finish_reason: finishReason,
        stop_reason: null,
        prompt_logprobs: null,
      },
    ],
    usage: u,
  };
}

/**
 * One stream chunk. For chat, `role` goes in the first delta; a `finishReason` ends the choice
 * (with `stop_reason: null`). `u` adds `usage` (continuous usage stats).
 */
export function streamChunk(
  kind: 'chat' | 'completion',
  m: Meta,
  delta: { text: string; role?: boolean; finishReason?: string },
  u?: Usage,
): object {
  const end = delta.finishReason === undefined ? {} : { stop_reason: null };
  const choice =
    kind === 'chat'
      ? {
          index: 0,
          delta: delta.role ? { role: 'assistant', content: delta.text } : { content: delta.text },
          logprobs: null,
          finish_reason: delta.finishReason ?? null,
          ...end,
        }
      : {
          index: 0,
          text: delta.text,
          logprobs: null,
          finish_reason: delta.finishReason ?? null,
          stop_reason: null,
        };
  return {
    id: m.id,
    object: kind === 'chat' ? 'chat.completion.chunk' : 'text_completion',
    created: m.created,
    model: m.model,
    choices: [choice],
    ...(u ? { usage: u } : {}),
  };
}

/** The final `include_usage` chunk: no choices, just usage. */
export function usageChunk(kind: 'chat' | 'completion', m: Meta, u: Usage): object {
  return {
    id: m.id,
    object: kind === 'chat' ? 'chat.completion.chunk' : 'text_completion',
    created: m.created,
    model: m.model,
    choices: [],
    usage: u,
  };
}
