/**
 * The versioned meshd configuration: one zod schema that holds every default, so a config file
 * names only what differs. `parseConfig` validates once, reports every problem with its path,
 * checks cross-references and returns a frozen object.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { MeshError } from './errors.ts';
import { NODE_ROLES, RUNTIME_KINDS } from './types.ts';

const port = z.number().int().min(0).max(65535);
const name = z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'letters, digits, ".", "_" or "-"');
const httpUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' });

const listenSchema = (defaultPort: number) =>
  z.strictObject({ host: z.string().default('127.0.0.1'), port: port.default(defaultPort) }).prefault({});

const runtimeEndpointSchema = z.strictObject({
  /** Endpoint name, unique on this node. */
  name,
  runtime: z.enum(RUNTIME_KINDS).default('vllm'),
  url: httpUrl,
  /** GPU type behind the endpoint (informs scoring later). */
  gpuType: z.string().optional(),
});

const simulatorSchema = z.strictObject({
  name,
  model: z.string().min(1).default('sim-llama-3-8b'),
  profile: z.enum(['h100', 'a100']).default('h100'),
  /** 0 picks a free port. */
  port: port.default(0),
  maxNumSeqs: z.number().int().positive().default(64),
  kvBlocks: z.number().int().positive().default(4096),
  /** >1 runs faster than real time with the same ratios. */
  timeScale: z.number().positive().default(1),
  seed: z.number().int().default(1),
});

const peerSchema = z.strictObject({
  /** Node id of the peer; learned from the peer when omitted. */
  id: name.optional(),
  /** The peer's API URL (its StatePlane), e.g. `http://127.0.0.1:50061`. */
  url: httpUrl,
});

export const configSchema = z
  .strictObject({
    apiVersion: z.literal('infermesh/v1'),
    node: z
      .strictObject({
        id: name.default(() => hostname().replace(/[^a-zA-Z0-9._-]/g, '-') || 'node'),
        roles: z.array(z.enum(NODE_ROLES)).min(1).default(['router', 'gpu']),
        zone: z.string().default('default'),
        labels: z.record(z.string(), z.string()).default({}),
      })
      .prefault({}),
    /** The control and state API (gRPC, gRPC-Web and Connect JSON on one port). */
    api: listenSchema(50051),
    /** Prometheus `/metrics`, `/healthz` and `/readyz`. */
    metrics: listenSchema(9090),
    log: z
      .strictObject({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      })
      .prefault({}),
    router: z
      .strictObject({
        listen: listenSchema(8080),
        /** Largest request body accepted, in bytes. */
        maxBodyBytes: z.number().int().positive().default(1_048_576),
        /** GPU nodes whose state this router subscribes to. Local gpu role is always included. */
        peers: z.array(peerSchema).default([]),
        /** Time to wait for an upstream's response headers. */
        upstreamHeadersTimeoutMs: z.number().int().positive().default(30_000),
        /** Longest pause between two body chunks of an upstream response. */
        upstreamBodyTimeoutMs: z.number().int().positive().default(300_000),
        /** Retries on another endpoint when an upstream fails before its first byte. */
        retries: z.number().int().min(0).max(5).default(1),
        /** Upstream connections kept per endpoint. */
        connectionsPerEndpoint: z.number().int().positive().default(256),
      })
      .prefault({}),
    gpu: z
      .strictObject({
        scrapeIntervalMs: z.number().int().min(50).default(1000),
        scrapeTimeoutMs: z.number().int().min(10).default(2000),
        /** Consecutive failed scrapes before an endpoint is `unhealthy` (the first makes it `stale`). */
        unhealthyAfter: z.number().int().positive().default(3),
        runtimes: z.array(runtimeEndpointSchema).default([]),
        /** Simulated GPU endpoints meshd starts in-process; each becomes a runtime endpoint. */
        simulators: z.array(simulatorSchema).default([]),
      })
      .prefault({}),
  })
  .superRefine((cfg, ctx) => {
    const names = new Set<string>();
    const endpoints = [
      ...cfg.gpu.runtimes.map((r, i) => ({ name: r.name, path: ['gpu', 'runtimes', i, 'name'] })),
      ...cfg.gpu.simulators.map((s, i) => ({ name: s.name, path: ['gpu', 'simulators', i, 'name'] })),
    ];
    for (const ep of endpoints) {
      if (names.has(ep.name))
        ctx.addIssue({ code: 'custom', path: ep.path, message: `duplicate endpoint name "${ep.name}"` });
      names.add(ep.name);
    }
    const roles = new Set(cfg.node.roles);
    if (roles.size !== cfg.node.roles.length)
      ctx.addIssue({ code: 'custom', path: ['node', 'roles'], message: 'roles repeat' });
    if (!roles.has('gpu') && endpoints.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['gpu'],
        message: 'runtimes or simulators are configured but the node has no "gpu" role',
      });
    }
    if (!roles.has('router') && !roles.has('edge') && cfg.router.peers.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['router', 'peers'],
        message: 'peers are configured but the node has no "router" or "edge" role',
      });
    }
  });

export type MeshConfig = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type SimulatorConfig = MeshConfig['gpu']['simulators'][number];
export type RuntimeEndpointConfig = MeshConfig['gpu']['runtimes'][number];

/** One problem found in a config, with the dotted path to the offending key. */
export interface ConfigProblem {
  path: string;
  message: string;
}

function formatPath(path: readonly PropertyKey[]): string {
  return (
    path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '') || '(root)'
  );
}

/** Validates a parsed config object; returns every problem, or the frozen config. */
export function checkConfig(
  input: unknown,
): { ok: true; config: MeshConfig } | { ok: false; problems: ConfigProblem[] } {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
    return { ok: false, problems };
  }
  return { ok: true, config: deepFreeze(result.data) };
}

/** Validates and returns the frozen config, or throws `invalid_config` listing every problem. */
export function parseConfig(input: unknown): MeshConfig {
  const checked = checkConfig(input);
  if (checked.ok) return checked.config;
  const lines = checked.problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
  throw new MeshError('invalid_config', `invalid config:\n${lines}`, { problems: checked.problems });
}

/** The full default config (what `meshd config` prints). */
export function defaultConfig(): MeshConfig {
  return parseConfig({ apiVersion: 'infermesh/v1' });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
