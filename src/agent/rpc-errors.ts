/**
 * The one place where a `MeshError` becomes a Connect/gRPC error. Handlers throw `MeshError`s (or
 * anything else); this interceptor turns them into `ConnectError`s whose code comes from
 * `ERROR_CODES[code].grpc`, so every protocol on the API port reports the same code.
 */
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { codeFromString } from '@connectrpc/connect/protocol-connect';
import { ERROR_CODES, MESH_ERROR_CODE_HEADER, MeshError } from '../core/errors.ts';
import type { Logger } from '../observability/log.ts';

/** Converts anything thrown by a handler into a `ConnectError` with the mapped code. */
function toConnectError(err: unknown): ConnectError {
  // Connect's own errors (malformed request, deadline, client cancel) already carry the right code.
  if (err instanceof ConnectError) return err;
  if (err instanceof Error && err.name === 'AbortError') return ConnectError.from(err);
  const mesh = MeshError.from(err);
  const code = codeFromString(ERROR_CODES[mesh.code].grpc) ?? Code.Internal;
  return new ConnectError(mesh.message, code, { [MESH_ERROR_CODE_HEADER]: mesh.code }, undefined, mesh);
}

async function* mapStreamErrors<T>(messages: AsyncIterable<T>, onError: (err: unknown) => ConnectError) {
  try {
    yield* messages;
  } catch (err) {
    throw onError(err);
  }
}

/**
 * Interceptor mapping errors of unary calls and of streams (an error thrown mid-stream surfaces
 * while the response messages are iterated, not when the handler is first called).
 */
export function createErrorInterceptor(logger?: Logger): Interceptor {
  const convert = (err: unknown): ConnectError => {
    const converted = toConnectError(err);
    if (converted.code === Code.Internal || converted.code === Code.Unknown) {
      logger?.error({ err: converted.cause ?? err }, 'rpc failed unexpectedly');
    }
    return converted;
  };
  return (next) => async (req) => {
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: mapStreamErrors(res.message, convert) };
    } catch (err) {
      throw convert(err);
    }
  };
}
