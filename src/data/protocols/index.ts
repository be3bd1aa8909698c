/**
 * The client protocols the router accepts, and the one rule that picks a protocol for a path:
 * the protocol with an inference route for it, else the one whose namespace holds it (for the
 * shape of its errors), else OpenAI.
 */
import { kserveProtocol } from './kserve.ts';
import { openaiProtocol } from './openai.ts';
import { tgiProtocol } from './tgi.ts';
import type { ClientProtocol } from './types.ts';

export type { ClientProtocol, InferenceRoute, RequestView, RouteContext } from './types.ts';
export { kserveProtocol, openaiProtocol, tgiProtocol };

/** Every client protocol, in the order paths are matched. */
const CLIENT_PROTOCOLS: readonly ClientProtocol[] = [openaiProtocol, tgiProtocol, kserveProtocol];

/** The protocol a request path belongs to. */
export function protocolForPath(path: string): ClientProtocol {
  return (
    CLIENT_PROTOCOLS.find((p) => p.route(path) !== undefined) ??
    CLIENT_PROTOCOLS.find((p) => p.owns(path)) ??
    openaiProtocol
  );
}
