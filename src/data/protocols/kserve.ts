/**
 * KServe v2 / Open Inference Protocol inference (`POST /v2/models/{name}[/versions/{v}]/infer`),
 * as Triton serves it. The model is the path's `{name}` (percent-decoded); the path is forwarded
 * unchanged, version included. Errors are the protocol's `{"error": "<message>"}`. Inference
 * answers are one JSON document, never a stream; a body cut mid-way is cut for the client too.
 */
import { excerpt, MeshError } from '../../core/errors.ts';
import type { ClientProtocol, InferenceRoute } from './types.ts';

const INFER_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?\/infer$/;

/** The model name of a KServe v2 infer path (percent-decoded); throws `invalid_request` on bad encoding. */
function decodeModel(raw: string, path: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new MeshError(
      'invalid_request',
      `the model name in ${excerpt(path)} is not valid percent-encoding`,
    );
  }
}

export const kserveProtocol: ClientProtocol = {
  name: 'kserve',
  speaks: 'kserve-v2',
  route(path): InferenceRoute | undefined {
    const raw = INFER_PATH.exec(path)?.[1];
    if (raw === undefined) return undefined;
    return { upstreamPath: path, model: () => decodeModel(raw, path), streams: () => false };
  },
  owns: (path) => path === '/v2' || path.startsWith('/v2/'),
  errorBody: (error) => ({ error: error.message }),
  // Infer answers do not stream; should an endpoint stream anyway, end it with the v2 error shape.
  streamError: (error) => `data: ${JSON.stringify({ error: error.message })}\n\n`,
};
