/**
 * Freshness of read answers: a node whose control store is unreachable answers from its mirror
 * and says so (`mesh-stale: true`, `mesh-revision: N`). The CLI prints the answer anyway, since
 * the last known state is what an operator needs during an outage, with a warning on stderr.
 */
import { REVISION_HEADER, STALE_HEADER } from '../control/freshness.ts';

/** Reads the headers of every answer of one CLI run. */
export interface Freshness {
  /** For CallOptions.onHeader. */
  onHeader: (headers: Headers) => void;
  /** The revision the last answer reflected, if it said. */
  revision: () => number | undefined;
}

/** Warns once per stale revision (a `--watch` re-rendering an unchanged mirror says it once). */
export function createFreshness(stderr: { write(text: string): unknown }): Freshness {
  let revision: number | undefined;
  let warnedAt: string | undefined;
  return {
    onHeader(headers) {
      const rev = headers.get(REVISION_HEADER);
      if (rev !== null && /^\d+$/.test(rev)) revision = Number(rev);
      if (headers.get(STALE_HEADER) !== 'true' || warnedAt === (rev ?? '')) return;
      warnedAt = rev ?? '';
      stderr.write(
        `warning: answered from the last known state (revision ${rev ?? 'unknown'}): the control store is unreachable\n`,
      );
    },
    revision: () => revision,
  };
}
