/**
 * Hugging Face TGI's native API (`POST /generate`, `POST /generate_stream`).
 *
 * Model rule: a TGI process serves exactly one model, so its request body names none. The router
 * takes the model from, in order: the `x-model` header, the `model` query parameter, else the one
 * model that TGI-speaking endpoints serve when there is exactly one. Several such models and none
 * named is `invalid_request` (400); none at all is `no_healthy_endpoint` (503).
 *
 * `/generate_stream` answers SSE written `data:{...}` (no space) with no `[DONE]` terminator; a
 * stream that fails mid-way ends with TGI's own stream error event
 * `data:{"error":"...","error_type":"..."}`. Errors are TGI's `{"error", "error_type"}` with its
 * error types (`validation`, `overloaded`, `generation`, `incomplete_generation`).
 */
import { MeshError, type ErrorCode } from '../../core/errors.ts';
import type { ClientProtocol, InferenceRoute, RequestView, RouteContext } from './types.ts';

/** The header a TGI client sets to name the model (TGI itself ignores it). */
const MODEL_HEADER = 'x-model';

/** TGI's `InferError::error_type()` values, chosen per mesh code so TGI clients raise the right error. */
const ERROR_TYPES: Record<ErrorCode, string> = {
  invalid_request: 'validation',
  invalid_config: 'validation',
  unauthenticated: 'validation',
  permission_denied: 'validation',
  not_found: 'validation',
  model_not_found: 'validation',
  conflict: 'validation',
  payload_too_large: 'validation',
  unsupported_media_type: 'validation',
  rate_limited: 'overloaded',
  no_healthy_endpoint: 'overloaded',
  unavailable: 'overloaded',
  upstream_error: 'generation',
  upstream_timeout: 'generation',
  cancelled: 'generation',
  not_implemented: 'generation',
  internal: 'generation',
};

/** TGI's error body for a mesh error. */
function tgiErrorBody(error: MeshError): { error: string; error_type: string } {
  return { error: error.message, error_type: ERROR_TYPES[error.code] };
}

/** The model a TGI request is for, by the rule in this module's header. */
function tgiModel(request: RequestView, ctx: RouteContext): string {
  const header = request.headers[MODEL_HEADER];
  const named = (Array.isArray(header) ? header[0] : header) ?? request.query.get('model') ?? undefined;
  if (named !== undefined && named !== '') return named;
  const served = ctx.modelsSpeaking('tgi');
  if (served.length === 1) return served[0]!;
  if (served.length === 0) {
    throw new MeshError('no_healthy_endpoint', 'no healthy endpoint serves the TGI protocol');
  }
  throw new MeshError(
    'invalid_request',
    `several models are served over TGI (${served.join(', ')}); name one with the ${MODEL_HEADER} header or the model query parameter`,
    { param: 'model' },
  );
}

const route = (path: string, stream: boolean): InferenceRoute => ({
  upstreamPath: path,
  model: tgiModel,
  streams: () => stream,
});

const routes = new Map<string, InferenceRoute>([
  ['/generate', route('/generate', false)],
  ['/generate_stream', route('/generate_stream', true)],
]);

export const tgiProtocol: ClientProtocol = {
  name: 'tgi',
  speaks: 'tgi',
  route: (path) => routes.get(path),
  owns: (path) => routes.has(path),
  errorBody: tgiErrorBody,
  streamError: (error) =>
    `data:${JSON.stringify({ error: error.message, error_type: 'incomplete_generation' })}\n\n`,
};
