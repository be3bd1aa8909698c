/**
 * The Triton flavour's metrics page, with Triton's names, HELP texts and `model`/`version` labels
 * (runtime-formats.md 3.2), written as prometheus-cpp does: label names sorted, integers without
 * `.0`, no blank lines. Real Triton serves it on a separate port (8002); the simulator serves it
 * at `/metrics` on its one port. An unloaded model has no series, as in Triton.
 */
import type { SimEngine } from '../../engine.ts';
import { TRITON_FAILURE_REASONS, type TritonStats } from './stats.ts';

export const TRITON_METRICS_CONTENT_TYPE = 'text/plain; charset=utf-8';

type Series = readonly [Readonly<Record<string, string>>, number];

function family(lines: string[], name: string, type: string, help: string, series: readonly Series[]): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, value] of series) {
    const keys = Object.keys(labels).sort();
    const rendered = keys.map((k) => `${k}="${labels[k] ?? ''}"`).join(',');
    lines.push(`${name}{${rendered}} ${String(Math.round(value))}`);
  }
}

export function renderTritonMetrics(engine: SimEngine, stats: TritonStats, loaded: boolean): string {
  const lines: string[] = [];
  const l = { model: engine.model, version: '1' };
  const one = (v: number): Series[] => (loaded ? [[l, v]] : []);
  family(
    lines,
    'nv_inference_request_success',
    'counter',
    'Number of successful inference requests, all batch sizes',
    one(stats.success),
  );
  family(
    lines,
    'nv_inference_request_failure',
    'counter',
    'Number of failed inference requests, all batch sizes',
    loaded ? TRITON_FAILURE_REASONS.map((reason) => [{ ...l, reason }, stats.failure[reason]] as const) : [],
  );
  family(
    lines,
    'nv_inference_count',
    'counter',
    'Number of inferences performed (does not include cached requests)',
    one(stats.count),
  );
  family(
    lines,
    'nv_inference_exec_count',
    'counter',
    'Number of model executions performed (does not include cached requests)',
    one(stats.execCount),
  );
  family(
    lines,
    'nv_inference_request_duration_us',
    'counter',
    'Cumulative inference request duration in microseconds (includes cached requests)',
    one(stats.requestUs),
  );
  family(
    lines,
    'nv_inference_queue_duration_us',
    'counter',
    'Cumulative inference queuing duration in microseconds (includes cached requests)',
    one(stats.queueUs),
  );
  family(
    lines,
    'nv_inference_compute_input_duration_us',
    'counter',
    'Cumulative compute input duration in microseconds (does not include cached requests)',
    one(stats.computeInputUs),
  );
  family(
    lines,
    'nv_inference_compute_infer_duration_us',
    'counter',
    'Cumulative compute inference duration in microseconds (does not include cached requests)',
    one(stats.computeInferUs),
  );
  family(
    lines,
    'nv_inference_compute_output_duration_us',
    'counter',
    'Cumulative inference compute output duration in microseconds (does not include cached requests)',
    one(stats.computeOutputUs),
  );
  family(
    lines,
    'nv_inference_pending_request_count',
    'gauge',
    'Instantaneous number of pending requests awaiting execution per-model.',
    one(engine.stats().waiting),
  );
  return `${lines.join('\n')}\n`;
}
