/**
 * Why a scrape failed, from a small closed set: the reason becomes a metric label
 * (`infermesh_scrape_errors_total{reason}`), so it must stay low-cardinality and stable.
 */

/** The closed set of scrape failure reasons. */
export const SCRAPE_ERROR_REASONS = ['timeout', 'connect', 'http_status', 'parse', 'body'] as const;
export type ScrapeErrorReason = (typeof SCRAPE_ERROR_REASONS)[number];

/** A failed scrape; `status` is set for `http_status`. */
export class ScrapeError extends Error {
  override readonly name = 'ScrapeError';
  readonly reason: ScrapeErrorReason;
  readonly status: number | undefined;

  constructor(
    reason: ScrapeErrorReason,
    message: string,
    options: { status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.reason = reason;
    this.status = options.status;
  }

  /** Anything thrown during a scrape as a ScrapeError; an unexpected error counts as `parse` (it came from odd input). */
  static from(err: unknown): ScrapeError {
    if (err instanceof ScrapeError) return err;
    return new ScrapeError('parse', err instanceof Error ? err.message : String(err), { cause: err });
  }
}
