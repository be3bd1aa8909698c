/**
 * What the router knows about each client protocol it accepts. One module per protocol
 * (`openai.ts`, `tgi.ts`, `kserve.ts`) implements `ClientProtocol`; `router-server.ts` picks the
 * protocol by path and everything protocol-specific (model, upstream path, error bodies, the
 * mid-stream error event) comes from it, so there is one error path for every protocol.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { MeshError } from '../../core/errors.ts';
import type { Protocol } from '../../core/types.ts';

/** The parts of an inference request a protocol reads to find its model. */
export interface RequestView {
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (always an object). */
  body: Readonly<Record<string, unknown>>;
}

/** What the router can tell a protocol about the mesh while it resolves a model. */
export interface RouteContext {
  /** Models at least one routable endpoint serves over `protocol`, sorted. */
  modelsSpeaking(protocol: Protocol): string[];
}

/** One inference path of a protocol, matched against a request path. */
export interface InferenceRoute {
  /** Path to call on the endpoint (relative to its base URL), without a query string. */
  upstreamPath: string;
  /** The model the request is for; throws `MeshError` when it cannot be told. */
  model(request: RequestView, ctx: RouteContext): string;
  /** Whether the answer is a server-sent event stream for this body. */
  streams(body: Readonly<Record<string, unknown>>): boolean;
}

export interface ClientProtocol {
  /** Short name for logs. */
  readonly name: 'openai' | 'tgi' | 'kserve';
  /** What an endpoint must list in `ModelState.protocols` to receive this protocol's requests. */
  readonly speaks: Protocol;
  /** The inference route for a path, or undefined when the path is not one of this protocol's. */
  route(path: string): InferenceRoute | undefined;
  /** Whether a path lies in this protocol's namespace, so its errors take this protocol's shape. */
  owns(path: string): boolean;
  /** The JSON error body this protocol's clients understand. */
  errorBody(error: MeshError): unknown;
  /**
   * The closing SSE bytes of a stream that failed after its first byte, in the protocol's own
   * stream error format.
   */
  streamError(error: MeshError): string;
}
