/**
 * One-line error messages of the CLI. Every message names a stable code: the meshd's own
 * `MeshError` code when the server sent one (the `mesh-error-code` header), else the Connect code.
 */
import { ConnectError, Code } from '@connectrpc/connect';
import { codeToString } from '@connectrpc/connect/protocol-connect';
import { MESH_ERROR_CODE_HEADER, MeshError } from '../core/errors.ts';

export interface ErrorContext {
  endpoint: string;
  timeoutMs: number;
}

/** `{ code, message }` of anything a command threw. */
function describeError(err: unknown, ctx: ErrorContext): { code: string; message: string } {
  if (err instanceof ConnectError) {
    const meshCode = err.metadata.get(MESH_ERROR_CODE_HEADER);
    if (meshCode) return { code: meshCode, message: err.rawMessage };
    // Without our header the error did not come from a handler: the transport failed.
    if (err.code === Code.Unavailable) {
      return { code: 'unavailable', message: `cannot reach ${ctx.endpoint}: ${err.rawMessage}` };
    }
    if (err.code === Code.DeadlineExceeded) {
      return {
        code: 'deadline_exceeded',
        message: `no answer from ${ctx.endpoint} within ${ctx.timeoutMs} ms`,
      };
    }
    return { code: codeToString(err.code), message: err.rawMessage };
  }
  if (err instanceof MeshError) return { code: err.code, message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}

/** The single stderr line for an error (newline included). */
export function formatError(err: unknown, ctx: ErrorContext): string {
  const { code, message } = describeError(err, ctx);
  // A multi-line message lists problems (an invalid policy: one `path: message` a line): keep
  // every one, separated so that each stays readable on the one line.
  const [first = '', ...problems] = message
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const text = problems.length > 0 ? `${first} ${problems.join('; ')}` : first;
  return `mesh: error: ${code}: ${text}\n`;
}
