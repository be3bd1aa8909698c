/** The dcgm-exporter source: one GET of the exporter's `/metrics` (default port 9400) per reading. */
import { Agent } from 'undici';
import { MeshError } from '../../../core/errors.ts';
import { createGetText } from '../../runtime/http.ts';
import type { GpuSourceContext, GpuTelemetrySource } from '../types.ts';
import { parseDcgmMetrics } from './parse.ts';

export interface DcgmSourceOptions extends GpuSourceContext {
  /** The exporter's metrics URL, e.g. `http://127.0.0.1:9400/metrics`. */
  url: string;
  timeoutMs?: number;
}

export function createDcgmSource(options: DcgmSourceOptions): GpuTelemetrySource {
  const agent = new Agent({ connections: 1 });
  const getText = createGetText(agent);
  const now = options.now ?? Date.now;
  return {
    kind: 'dcgm',
    async read() {
      let body: string;
      try {
        const res = await getText(options.url, {
          signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
          maxBytes: 16 * 1024 * 1024,
        });
        if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
        body = res.body;
      } catch (err) {
        throw new MeshError(
          'unavailable',
          `dcgm-exporter ${options.url}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      try {
        return parseDcgmMetrics(body, { node: options.node, now: now() });
      } catch (err) {
        throw new MeshError('unavailable', `dcgm-exporter ${options.url}: bad page: ${String(err)}`);
      }
    },
    close: () => agent.close(),
  };
}
