/** The Prometheus text / OpenMetrics parser every runtime adapter shares. */
export { PromParseError } from './parse-error.ts';
export { formatFromContentType, parsePrometheus } from './parser.ts';
export { isLabelName, isMetricName, parseValue } from './line-scanner.ts';
export { formatValue, renderPrometheus } from './render.ts';
export {
  readHistograms,
  readSummaries,
  samplesByName,
  seriesKey,
  withoutLabels,
  type HistogramBucket,
  type HistogramSeries,
  type SummarySeries,
} from './series.ts';
export type * from './types.ts';
export { METRIC_TYPES } from './types.ts';
