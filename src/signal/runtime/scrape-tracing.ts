/**
 * The scraper's spans: one `runtime.scrape` per round (a root span, or a child of the call that
 * asked for the round) and one `runtime.scrape.endpoint` per endpoint under it, with the outcome.
 * With tracing off, or rounds not traced (`observability.tracing.scrapes: false`), none is started.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { ATTR, SPAN } from '../../observability/tracing/attributes.ts';
import { recordingSpan, runInSpan, startSpan, type Span } from '../../observability/tracing/tracer.ts';
import type { ScrapeError } from './scrape-error.ts';
import type { EndpointStatus } from './types.ts';

/** Runs a scrape round of `endpoints` inside its span when `traced` and tracing is on. */
export async function tracedRound(
  traced: boolean,
  endpoints: number,
  round: () => Promise<void>,
): Promise<void> {
  const span = traced ? startSpan(SPAN.scrape) : undefined;
  if (!span) return round();
  span.setAttribute(ATTR.scrapeEndpoints, endpoints);
  try {
    await runInSpan(span, round);
  } finally {
    span.end();
  }
}

/** An endpoint's scrape span, under a recording round; undefined otherwise. */
export function startEndpointScrape(status: EndpointStatus): Span | undefined {
  if (!recordingSpan()) return undefined;
  const span = startSpan(SPAN.scrapeEndpoint)!;
  span.setAttributes({
    [ATTR.endpoint]: status.id,
    [ATTR.runtime]: status.runtime,
    [ATTR.urlFull]: status.url,
  });
  return span;
}

/** Ends an endpoint's scrape span: `models` scraped, or the failure's reason. */
export function endEndpointScrape(span: Span, outcome: { models: number } | ScrapeError): void {
  if ('models' in outcome) {
    span.setAttributes({ [ATTR.scrapeResult]: 'ok', [ATTR.scrapeModels]: outcome.models });
    span.setStatus({ code: SpanStatusCode.OK });
  } else {
    span.setAttributes({ [ATTR.scrapeResult]: 'error', [ATTR.errorType]: outcome.reason });
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.message });
  }
  span.end();
}
