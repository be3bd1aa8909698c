/**
 * The one error the Prometheus parser throws. Scrapers catch it and count a `parse` failure; it
 * carries the line so an operator can find the broken line in the runtime's output.
 */

/** A body that is not valid exposition text; `line` is 1-based, `column` 1-based when known. */
export class PromParseError extends Error {
  override readonly name = 'PromParseError';
  readonly line: number;
  readonly column: number | undefined;

  constructor(message: string, line: number, column?: number) {
    super(column === undefined ? `line ${line}: ${message}` : `line ${line}, column ${column}: ${message}`);
    this.line = line;
    this.column = column;
  }
}
