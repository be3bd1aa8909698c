/**
 * OpenAI-compatible inference (`/v1/chat/completions`, `/v1/completions`): the model is the
 * body's `model`, the path is forwarded as it is, `"stream": true` asks for SSE, and errors are
 * OpenAI's `{"error": {"message", "type", "param", "code"}}`. A stream that fails mid-way ends
 * with an error event and `data: [DONE]`, as OpenAI's own streams end.
 */
import { MeshError } from '../../core/errors.ts';
import type { ClientProtocol, InferenceRoute } from './types.ts';

const PATHS = ['/v1/chat/completions', '/v1/completions'];

/** The model a request body names; absent or empty is `model_not_found` (OpenAI answers 404 too). */
function requireModel(body: Readonly<Record<string, unknown>>): string {
  const model = body.model;
  if (model === undefined || model === null || model === '') {
    throw new MeshError('model_not_found', 'the request names no model; set "model"', { param: 'model' });
  }
  if (typeof model !== 'string')
    throw new MeshError('invalid_request', '"model" must be a string', { param: 'model' });
  return model;
}

const routes = new Map<string, InferenceRoute>(
  PATHS.map((path) => [
    path,
    {
      upstreamPath: path,
      model: (request) => requireModel(request.body),
      streams: (body) => body.stream === true,
    },
  ]),
);

export const openaiProtocol: ClientProtocol = {
  name: 'openai',
  speaks: 'openai',
  route: (path) => routes.get(path),
  owns: (path) => path.startsWith('/v1/'),
  errorBody: (error) => error.toOpenAI(),
  streamError: (error) => `data: ${JSON.stringify(error.toOpenAI())}\n\ndata: [DONE]\n\n`,
};
