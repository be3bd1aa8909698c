/**
 * Every span name and attribute key the mesh writes, in one module (as metric names are in
 * `metrics.ts`): docs/OBSERVABILITY.md ("Traces") lists them, and a test checks the two agree. Where an
 * OpenTelemetry semantic convention exists (HTTP, RPC, GenAI) its key is used; the rest live under
 * `infermesh.`.
 */

/** Span names. */
export const SPAN = {
  /** The router's server span for one inference request (joins the client's `traceparent`). */
  request: 'router.request',
  /** One pick by the scoring engine (a retry's and a hedge's pick are their own). */
  choose: 'router.choose',
  /** Admission of the chosen endpoint: the predicted wait against the request's budget. */
  admission: 'router.admission',
  /** One attempt on one endpoint: the first, a retry or a hedge; its context is the runtime's `traceparent`. */
  upstream: 'router.upstream',
  /** One scrape round of the gpu role's runtime scraper. */
  scrape: 'runtime.scrape',
  /** One endpoint's scrape within a round. */
  scrapeEndpoint: 'runtime.scrape.endpoint',
} as const;

/** Attribute keys. */
export const ATTR = {
  // OpenTelemetry semantic conventions (stable HTTP, server, error; RPC; GenAI, still incubating).
  httpMethod: 'http.request.method',
  httpStatus: 'http.response.status_code',
  urlPath: 'url.path',
  urlFull: 'url.full',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  errorType: 'error.type',
  rpcSystem: 'rpc.system',
  rpcService: 'rpc.service',
  rpcMethod: 'rpc.method',
  rpcStatus: 'rpc.response.status_code',
  genAiModel: 'gen_ai.request.model',
  genAiMaxTokens: 'gen_ai.request.max_tokens',
  genAiOutputTokens: 'gen_ai.usage.output_tokens',
  // The mesh's own.
  requestId: 'infermesh.request.id',
  protocol: 'infermesh.protocol',
  stream: 'infermesh.stream',
  sloClass: 'infermesh.slo_class',
  tenant: 'infermesh.tenant',
  promptTokens: 'infermesh.prompt_tokens',
  worker: 'infermesh.router.worker',
  endpoint: 'infermesh.endpoint',
  node: 'infermesh.node',
  ttftMs: 'infermesh.ttft_ms',
  candidates: 'infermesh.choose.candidates',
  excluded: 'infermesh.choose.excluded',
  profile: 'infermesh.choose.profile',
  score: 'infermesh.choose.score',
  topEndpoints: 'infermesh.choose.top.endpoints',
  topTotals: 'infermesh.choose.top.scores',
  topScorers: 'infermesh.choose.top.scorers',
  predictedWaitMs: 'infermesh.predicted_wait_ms',
  predictedTtftMs: 'infermesh.predicted_ttft_ms',
  admitted: 'infermesh.admission.admitted',
  admissionLimitMs: 'infermesh.admission.limit_ms',
  admissionReason: 'infermesh.admission.reason',
  attempt: 'infermesh.attempt',
  retry: 'infermesh.retry',
  hedge: 'infermesh.hedge',
  outcome: 'infermesh.upstream.outcome',
  firstByteMs: 'infermesh.upstream.first_byte_ms',
  rpcStream: 'infermesh.rpc.stream',
  runtime: 'infermesh.runtime',
  scrapeEndpoints: 'infermesh.scrape.endpoints',
  scrapeResult: 'infermesh.scrape.result',
  scrapeModels: 'infermesh.scrape.models',
} as const;

/** Span event names. */
export const EVENT = {
  /** The first token of a stream (the first SSE chunk), or the first byte of a whole answer. */
  firstToken: 'first_token',
  firstByte: 'first_byte',
} as const;
