/**
 * JSON logs (pino). Every component takes a child logger; request-scoped logs carry `requestId`,
 * and a line written inside a traced span carries its `trace_id`, `span_id` and `trace_flags`
 * (`tracing/tracer.ts`), so logs and traces join. Outside a span, or with tracing off, the mixin
 * returns one shared empty object and the merge keeps the line as it is: no allocation per line.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { logTraceFields, NO_TRACE_FIELDS } from './tracing/tracer.ts';

export type { Logger };

/** A logger at `level` with `bindings` on every line; `destination` (default stdout) for tests. */
export function createLogger(
  level: string,
  bindings: Record<string, unknown> = {},
  destination?: DestinationStream,
): Logger {
  const options = {
    level,
    base: { pid: process.pid, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: logTraceFields,
    // pino's default merge writes the line's fields into the mixin's object: not into the shared one.
    mixinMergeStrategy: (line: object, fields: object) =>
      fields === NO_TRACE_FIELDS ? line : Object.assign(fields, line),
  };
  return destination ? pino(options, destination) : pino(options);
}
