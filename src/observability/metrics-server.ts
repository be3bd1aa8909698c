/**
 * The operator's HTTP port: Prometheus `/metrics`, liveness `/healthz` and readiness `/readyz`, and
 * the live dashboard `/ui` (`fleet-view/ui-server.ts`, through `handle`). Kept off the data plane port so scrapes and probes never queue behind inference traffic.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen } from '../core/listen.ts';
import { prometheusContentType } from 'prom-client';

export interface MetricsServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface MetricsServerOptions {
  host: string;
  port: number;
  /** The exposition text (`exposition.ts`). */
  render: () => Promise<string>;
  /** Readiness: why the node is not ready yet, or undefined when it is. */
  notReadyReason: () => string | undefined;
  /**
   * What `/readyz` adds as `detail`, ready or not: what the node can and cannot reach (gossip
   * members by state, followed peers), so a partition shows without failing readiness.
   */
  readyDetail?: () => Record<string, unknown>;
  /** More routes (the dashboard's `/ui`): returns true when it answered the request. */
  handle?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export async function createMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, contentType: string, body: string) => {
      res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (path === '/metrics') {
      options.render().then(
        (text) => reply(200, prometheusContentType, text),
        (err: unknown) => reply(500, 'text/plain', `metrics failed: ${String(err)}\n`),
      );
    } else if (path === '/healthz') {
      reply(200, 'application/json', '{"status":"ok"}');
    } else if (path === '/readyz') {
      const reason = options.notReadyReason();
      const detail = options.readyDetail?.();
      reply(
        reason ? 503 : 200,
        'application/json',
        JSON.stringify({
          ...(reason ? { status: 'not_ready', reason } : { status: 'ready' }),
          ...(detail ? { detail } : {}),
        }),
      );
    } else if (!options.handle?.(req, res)) {
      reply(
        404,
        'application/json',
        '{"error":{"code":"not_found","message":"try /metrics, /healthz, /readyz or /ui"}}',
      );
    }
  });
  return listen(server, { host: options.host, port: options.port, configKey: 'metrics' });
}
