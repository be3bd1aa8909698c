/**
 * `meshd probe URL`: what the signal plane would see at a runtime endpoint, without running a node.
 * It detects the runtime (or takes `--runtime`) and then scrapes through the very scraper and
 * adapter a gpu node uses, into a throwaway state store, so the records it prints are the ones the
 * router would get (same field names, same absent fields). One scrape by default; `--window MS`
 * takes a second one after MS so rates and p95s have a window.
 */
import { Option, type Command } from 'commander';
import { Agent } from 'undici';
import { MeshError } from '../core/errors.ts';
import { RUNTIME_KINDS, type ModelState, type RuntimeKind } from '../core/types.ts';
import { formatResult, OUTPUT_FORMATS, useColor, type OutputFormat, type TableView } from '../cli/output.ts';
import { createLogger } from '../observability/log.ts';
import { detectRuntime } from '../signal/runtime/detect.ts';
import { createGetText } from '../signal/runtime/http.ts';
import { createRuntimeScraper } from '../signal/runtime/scraper.ts';
import type { EndpointError, EngineModelState, RuntimeEndpoint } from '../signal/runtime/types.ts';
import { createStateStore } from '../signal/state/state-store.ts';

interface ProbeOptions {
  runtime?: RuntimeKind;
  metricsUrl?: string;
  managementUrl?: string;
  model?: string[];
  node: string;
  name: string;
  timeout: number;
  window?: number;
  gpuType?: string;
}

/** What `meshd probe -o json` prints. */
export interface ProbeResult {
  runtime: RuntimeKind;
  endpoint: string;
  /** How the runtime was recognised (`given` when `--runtime` named it). */
  detectedBy: string;
  health: string;
  error?: EndpointError;
  models: ModelState[];
  /** Per-engine records, for data-parallel vLLM. */
  engines?: EngineModelState[];
}

/** Detects and scrapes one endpoint. */
async function probeEndpoint(url: string, o: ProbeOptions): Promise<ProbeResult> {
  let runtime = o.runtime;
  let detectedBy = 'given';
  if (!runtime) {
    const agent = new Agent({
      headersTimeout: o.timeout,
      bodyTimeout: o.timeout,
      connect: { timeout: o.timeout },
    });
    try {
      const found = await detectRuntime(
        url,
        createGetText(agent),
        AbortSignal.timeout(o.timeout),
        o.model?.[0],
      );
      runtime = found.runtime;
      detectedBy = found.evidence;
    } finally {
      await agent.destroy().catch(() => undefined);
    }
  }
  const endpoint: RuntimeEndpoint = {
    name: o.name,
    runtime,
    url,
    ...(o.metricsUrl ? { metricsUrl: o.metricsUrl } : {}),
    ...(o.managementUrl ? { managementUrl: o.managementUrl } : {}),
    ...(o.model?.length ? { models: o.model } : {}),
    ...(o.gpuType ? { gpuType: o.gpuType } : {}),
  };
  const store = createStateStore();
  const scraper = createRuntimeScraper({
    node: o.node,
    endpoints: [endpoint],
    intervalMs: o.window ?? 1000,
    timeoutMs: o.timeout,
    unhealthyAfter: 1,
    store,
    logger: createLogger('silent'),
  });
  try {
    await scraper.scrapeOnce();
    if (o.window !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, o.window));
      await scraper.scrapeOnce();
    }
    const [status] = scraper.endpoints();
    const engines = scraper.engines(o.name);
    return {
      runtime,
      endpoint: url,
      detectedBy,
      health: status?.health ?? 'unknown',
      ...(status?.lastError && status.health !== 'healthy' ? { error: status.lastError } : {}),
      models: store.list(),
      ...(engines.length > 0 ? { engines } : {}),
    };
  } finally {
    await scraper.stop();
  }
}

const cell = (v: number | undefined, digits = 2) => (v === undefined ? '-' : Number(v.toFixed(digits)));

function tableOf(r: ProbeResult): TableView {
  const rows = [...r.models, ...(r.engines ?? [])].map((m) => [
    'engine' in m ? `${m.model} [engine ${String(m.engine)}]` : m.model,
    m.loaded ? (m.warming ? 'warming' : 'yes') : 'no',
    cell(m.queueDepth),
    cell(m.running),
    cell(m.kvCacheUsage),
    cell(m.requestRate),
    cell(m.tokenRate, 1),
    cell(m.ttftP95Ms, 1),
    cell(m.e2eP95Ms, 1),
    (m.protocols ?? ['openai']).join(','),
    m.canLoad ? 'yes' : 'no',
  ]);
  return {
    head: [
      'MODEL',
      'LOADED',
      'QUEUE',
      'RUNNING',
      'KV',
      'REQ/S',
      'TOK/S',
      'TTFT P95',
      'E2E P95',
      'PROTOCOLS',
      'LOAD',
    ],
    rows,
    footer: [
      `${r.runtime} at ${r.endpoint} (${r.detectedBy}), health ${r.health}` +
        (r.error ? `: ${r.error.reason}: ${r.error.message}` : ''),
    ],
  };
}

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0)
    throw new MeshError('invalid_request', `expected a positive integer, got "${v}"`);
  return n;
};

/** Adds `probe` to meshd's command line. */
export function registerProbeCommand(program: Command): void {
  program
    .command('probe')
    .description('detect the runtime at URL and print the state records the signal plane reads from it')
    .argument('<url>', 'base URL of the runtime endpoint, e.g. http://127.0.0.1:8000')
    .addOption(new Option('--runtime <type>', 'skip detection').choices(RUNTIME_KINDS))
    .option('--metrics-url <url>', 'metrics URL when not <url>/metrics (Triton :8002, TorchServe :8082)')
    .option('--management-url <url>', 'TorchServe management API (default port 8081)')
    .option('--model <name...>', 'models to ask for (TF Serving cannot list them)')
    .option('--node <id>', 'node id to stamp on the records', 'probe')
    .option('--name <name>', 'endpoint name (records get endpointId <node>/<name>)', 'endpoint')
    .option('--gpu-type <type>', 'GPU type label to stamp on the records')
    .option('--timeout <ms>', 'deadline of each scrape', positiveInt, 5000)
    .option('--window <ms>', 'scrape twice, MS apart, so rates and p95s have a window', positiveInt)
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .action(async (url: string, opts: ProbeOptions & { output: OutputFormat }) => {
      try {
        new URL(url);
      } catch {
        throw new MeshError('invalid_request', `"${url}" is not a URL`);
      }
      const result = await probeEndpoint(url, opts);
      process.stdout.write(
        formatResult(result, tableOf(result), opts.output, useColor(process.env, process.stdout.isTTY)),
      );
      if (result.health !== 'healthy') process.exitCode = 1;
    });
}
