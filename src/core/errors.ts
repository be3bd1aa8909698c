/**
 * One error type for the whole mesh. Every failure a user or operator can see carries a stable
 * `code` from the closed set below; the code decides the HTTP status and the gRPC/Connect code in
 * one place, so the data plane, the control API and the CLI never disagree about what went wrong.
 */

/** The closed set of error codes. Documented in docs/ERRORS.md; a test keeps the two in step. */
export const ERROR_CODES = {
  invalid_request: { http: 400, grpc: 'invalid_argument', type: 'invalid_request_error' },
  invalid_config: { http: 400, grpc: 'invalid_argument', type: 'invalid_request_error' },
  unauthenticated: { http: 401, grpc: 'unauthenticated', type: 'invalid_request_error' },
  permission_denied: { http: 403, grpc: 'permission_denied', type: 'invalid_request_error' },
  not_found: { http: 404, grpc: 'not_found', type: 'invalid_request_error' },
  model_not_found: { http: 404, grpc: 'not_found', type: 'invalid_request_error' },
  conflict: { http: 409, grpc: 'aborted', type: 'invalid_request_error' },
  payload_too_large: { http: 413, grpc: 'resource_exhausted', type: 'invalid_request_error' },
  unsupported_media_type: { http: 415, grpc: 'invalid_argument', type: 'invalid_request_error' },
  rate_limited: { http: 429, grpc: 'resource_exhausted', type: 'rate_limit_error' },
  no_healthy_endpoint: { http: 503, grpc: 'unavailable', type: 'service_unavailable_error' },
  unavailable: { http: 503, grpc: 'unavailable', type: 'service_unavailable_error' },
  upstream_error: { http: 502, grpc: 'unavailable', type: 'upstream_error' },
  upstream_timeout: { http: 504, grpc: 'deadline_exceeded', type: 'upstream_error' },
  cancelled: { http: 499, grpc: 'canceled', type: 'cancelled' },
  not_implemented: { http: 501, grpc: 'unimplemented', type: 'not_implemented' },
  internal: { http: 500, grpc: 'internal', type: 'internal_error' },
} as const satisfies Record<string, { http: number; grpc: string; type: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * `text` cut to `max` characters (with an ellipsis and the full length) for echoing client input
 * into messages and logs: a 900 KB model name must not come back as a 900 KB error.
 */
export function excerpt(text: string, max = 128): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}

/** Header (a trailer under gRPC) carrying the MeshError code on RPC errors, so clients keep the stable code. */
export const MESH_ERROR_CODE_HEADER = 'mesh-error-code';

/** A failure with a stable code, a human message and optional structured details. */
export class MeshError extends Error {
  override readonly name = 'MeshError';
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  /** Wraps anything thrown at a boundary; a MeshError passes through unchanged. */
  static from(err: unknown, fallback: ErrorCode = 'internal'): MeshError {
    if (err instanceof MeshError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new MeshError(fallback, message, {}, { cause: err });
  }

  /** The OpenAI-shaped error body clients of the data plane receive. */
  toOpenAI(): { error: { message: string; type: string; param: string | null; code: string } } {
    const param = typeof this.details.param === 'string' ? this.details.param : null;
    return { error: { message: this.message, type: ERROR_CODES[this.code].type, param, code: this.code } };
  }
}
