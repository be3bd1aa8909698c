/**
 * What the benchmark backends answer, shared by the static nginx backend and the SSE backend: a
 * vLLM look-alike just real enough for meshd's gpu role to scrape it (`/v1/models`, a minimal
 * `/metrics` page, `/health`) and for the router to route to it, with fixed answers so the backend
 * costs next to nothing.
 */

/** The one model the backends serve. */
export const MODEL = 'bench-llama-3-8b';

/** A realistic chat request (~300 bytes) for wrk and the stream client. */
export function chatRequestBody(opts: { stream?: boolean; maxTokens?: number } = {}): string {
  return JSON.stringify({
    model: MODEL,
    messages: [
      { role: 'system', content: 'You are a helpful assistant that answers briefly.' },
      { role: 'user', content: 'Summarise in two paragraphs why a router should add little latency.' },
    ],
    max_tokens: opts.maxTokens ?? 256,
    temperature: 0.7,
    ...(opts.stream ? { stream: true } : {}),
  });
}

/** The ~1 KB non-streamed answer; only letters, spaces and JSON punctuation, so nginx can `return` it. */
export function chatCompletionJson(): string {
  const sentence = 'A router adds a parse a pick and a relay to every request and should cost little. ';
  const content = sentence.repeat(9).trim();
  return JSON.stringify({
    id: 'chatcmpl-bench0000000000000000',
    object: 'chat.completion',
    created: 1767225600,
    model: MODEL,
    choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 40, completion_tokens: 160, total_tokens: 200 },
  });
}

/** `GET /v1/models`, as vLLM answers it. */
export function modelsJson(): string {
  return JSON.stringify({
    object: 'list',
    data: [{ id: MODEL, object: 'model', created: 1767225600, owned_by: 'vllm', root: MODEL, parent: null }],
  });
}

/**
 * A minimal valid vLLM `/metrics` page: an idle engine with a large KV cache, so scoring and
 * admission see room and the router's own in-flight counts do the rest.
 */
export function metricsText(): string {
  const m = `model_name="${MODEL}"`;
  return [
    '# HELP vllm:num_requests_running Number of requests in model execution batches.',
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running{engine="0",${m}} 0.0`,
    '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
    '# TYPE vllm:num_requests_waiting gauge',
    `vllm:num_requests_waiting{engine="0",${m}} 0.0`,
    '# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.',
    '# TYPE vllm:kv_cache_usage_perc gauge',
    `vllm:kv_cache_usage_perc{engine="0",${m}} 0.0`,
    '# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig',
    '# TYPE vllm:cache_config_info gauge',
    'vllm:cache_config_info{block_size="16",engine="0",num_gpu_blocks="1000000"} 1.0',
    '',
  ].join('\n');
}

/** One SSE event of a streamed chat completion carrying one token. */
export function chunkEvent(id: string, token: string, finish: 'stop' | null = null): string {
  const delta = finish ? {} : { content: token };
  const chunk = {
    id,
    object: 'chat.completion.chunk',
    created: 1767225600,
    model: MODEL,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** The event that ends every OpenAI stream. */
export const DONE_EVENT = 'data: [DONE]\n\n';
