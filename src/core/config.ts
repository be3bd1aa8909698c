/**
 * The versioned meshd configuration: one zod schema that holds every default, so a config file
 * names only what differs. `parseConfig` validates once, reports every problem with its path,
 * checks cross-references and returns a frozen object.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { apiKeysConfigSchema } from './config-api-keys.ts';
import { authConfigSchema } from './config-auth.ts';
import { observabilityConfigSchema } from './config-tracing.ts';
import { tlsConfigSchema } from './config-tls.ts';
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
  /** UUIDs of the GPUs (or MIG instances) the endpoint runs on; a quarantined one takes it out of routing. */
  gpus: z.array(z.string().min(1)).optional(),
  /** Metrics URL when not `${url}/metrics` (Triton: port 8002, TorchServe: 8082 by default). */
  metricsUrl: httpUrl.optional(),
  /** TorchServe management API (default: the url's host, port 8081). */
  managementUrl: httpUrl.optional(),
  /** Models to watch on runtimes that cannot list theirs (TF Serving). */
  models: z.array(z.string().min(1)).optional(),
  /**
   * The runtime's KV-event PUB socket (vLLM `--kv-events-config` endpoint), e.g.
   * `tcp://10.0.0.5:5557`: the gpu role subscribes and streams the endpoint's cached blocks to routers.
   */
  kvEvents: z
    .string()
    .regex(/^tcp:\/\/[^\s:]+:\d+$/, 'tcp://host:port')
    .optional(),
  /** Its ROUTER replay socket (`replay_endpoint`), for recovering lost batches. */
  kvEventsReplay: z
    .string()
    .regex(/^tcp:\/\/[^\s:]+:\d+$/, 'tcp://host:port')
    .optional(),
  /** Its `topic` (default empty). */
  kvEventsTopic: z.string().optional(),
});

const simulatorSchema = z.strictObject({
  name,
  model: z.string().min(1).default('sim-llama-3-8b'),
  profile: z.enum(['h100', 'a100']).default('h100'),
  /** 0 picks a free port. */
  port: port.default(0),
  /** Batch slots, KV blocks and per-step token budget: absent, sized like the GPU, as vLLM does (src/sim/sizing.ts). */
  maxNumSeqs: z.number().int().positive().optional(),
  kvBlocks: z.number().int().positive().optional(),
  maxNumBatchedTokens: z.number().int().positive().optional(),
  /** >1 runs faster than real time with the same ratios. */
  timeScale: z.number().positive().default(1),
  seed: z.number().int().default(1),
  /** Which runtime's API the simulator speaks: vLLM (OpenAI), TGI or Triton (KServe v2). */
  flavor: z.enum(['vllm', 'tgi', 'triton']).default('vllm'),
  /** UUIDs of the simulated GPUs behind it (the `sim` telemetry source reports them). */
  gpus: z.array(z.string().min(1)).optional(),
  /**
   * Publish KV-cache events as vLLM's `--kv-events-config` does (ZeroMQ PUB, msgpack batches);
   * absent: none. Ports 0 pick free ones; the gpu role subscribes to its own simulators' events.
   */
  kvEvents: z
    .strictObject({
      port: port.default(0),
      /** ROUTER replay socket; absent picks a free port. */
      replayPort: port.optional(),
      topic: z.string().default(''),
    })
    .optional(),
});

/** GPU telemetry (src/signal/gpu) and the policy that quarantines failing GPUs. */
const gpuTelemetrySchema = z
  .strictObject({
    /** `none` (default) keeps existing setups unchanged; `auto` picks NVML, else nvidia-smi, else rocm-smi. */
    source: z.enum(['auto', 'nvml', 'dcgm', 'nvidia-smi', 'rocm-smi', 'sim', 'none']).default('none'),
    /** dcgm-exporter's metrics URL, for `source: dcgm`. */
    url: httpUrl.optional(),
    intervalMs: z.number().int().min(50).default(5000),
  })
  .prefault({});

const gpuQuarantineSchema = z
  .strictObject({
    /** Quarantine on any new volatile uncorrected ECC error. */
    onEccUncorrected: z.boolean().default(true),
    /** XID codes that quarantine a GPU (NVIDIA's "reset or drain the GPU" XIDs by default). */
    criticalXids: z.array(z.number().int().positive()).default([48, 63, 64, 74, 79, 92, 94, 95]),
    /** Quarantine at or above this GPU temperature (°C); absent = never for heat. */
    maxTemperatureC: z.number().positive().optional(),
    /** Quarantine when one of these throttle reasons stays active for `forMs`. */
    persistentThrottle: z
      .strictObject({
        reasons: z
          .array(z.string().min(1))
          .default(['hw_slowdown', 'hw_thermal_slowdown', 'hw_power_brake_slowdown']),
        forMs: z.number().int().positive().default(300_000),
      })
      .optional(),
    /** Release automatically after this long once the cause is gone; 0 = only by operator. */
    coolDownMs: z.number().int().min(0).default(0),
  })
  .prefault({});

const peerSchema = z.strictObject({
  /** Node id of the peer; learned from the peer when omitted. */
  id: name.optional(),
  /** The peer's API URL (its StatePlane), e.g. `http://127.0.0.1:50061`. */
  url: httpUrl,
});

/** `host:port` (IPv6 hosts in brackets), as gossip addresses are written. */
const hostPort = z
  .string()
  .refine(
    (s) =>
      /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/.test(s) && Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535,
    'host:port (an IPv6 host in brackets; port at most 65535)',
  );

/** A gossip key: 32 random bytes (AES-256), base64. */
const gossipKey = z
  .string()
  .refine((s) => /^[A-Za-z0-9+/]+={0,2}$/.test(s) && Buffer.from(s, 'base64').length === 32, {
    message: 'a base64 AES-256 key (32 bytes; `openssl rand -base64 32`)',
  });

/**
 * Gossip membership (src/membership): who is in the mesh and who is alive. Absent `bind`, the node
 * does not gossip and routers follow `router.peers` only.
 */
const membershipSchema = z
  .strictObject({
    /** Where gossip listens, UDP and TCP on one port (`0.0.0.0:7946`; port 0 picks one). */
    bind: hostPort.optional(),
    /** The address other members reach this one at, when it differs from `bind` (NAT, 0.0.0.0). */
    advertise: hostPort.optional(),
    /** A few members to join through (any live member will do); retried until one answers. */
    seeds: z.array(hostPort).default([]),
    /** Gossip keys (AES-256-GCM); the first encrypts, all decrypt (rotation). Required off loopback. */
    keyring: z.array(gossipKey).default([]),
    /** Gossip in the clear on a non-loopback address (refused without it when there is no keyring). */
    insecure: z.boolean().default(false),
    /** Protocol timings; absent, memberlist's LAN defaults (src/membership/config.ts). */
    timing: z
      .strictObject({
        probeIntervalMs: z.number().int().positive().optional(),
        probeTimeoutMs: z.number().int().positive().optional(),
        suspicionMult: z.number().int().positive().optional(),
        gossipIntervalMs: z.number().int().positive().optional(),
        pushPullIntervalMs: z.number().int().min(0).optional(),
        reconnectIntervalMs: z.number().int().min(0).optional(),
      })
      .default({}),
  })
  .prefault({});

/** One plugin in a scoring profile: its registered type, an optional display name, its parameters. */
const scoringPluginSchema = z.strictObject({
  type: z.string().min(1),
  name: z.string().min(1).optional(),
  params: z.record(z.string(), z.unknown()).default({}),
});

/** A scoring profile: filters → weighted scorers → picker; SLO classes may override weights by scorer name. */
const scoringProfileSchema = z.strictObject({
  filters: z.array(scoringPluginSchema).optional(),
  scorers: z.array(scoringPluginSchema.extend({ weight: z.number().min(0).default(1) })).default([]),
  picker: scoringPluginSchema.prefault({ type: 'max-score' }),
  sloClasses: z
    .strictObject({
      latency: z.record(z.string(), z.number().min(0)).optional(),
      throughput: z.record(z.string(), z.number().min(0)).optional(),
    })
    .default({}),
});

/** Hedging knobs one SLO class may override (`router.hedging.sloClasses.<class>`); absent = the global value. */
export const hedgingClassSchema = z.strictObject({
  enabled: z.boolean().optional(),
  budget: z.enum(['predicted', 'p95', 'fixed']).optional(),
  predictedMultiplier: z.number().positive().optional(),
  p95Multiplier: z.number().positive().optional(),
  fixedBudgetMs: z.number().int().positive().optional(),
  minBudgetMs: z.number().int().min(1).optional(),
  maxBudgetMs: z.number().int().min(1).optional(),
});

/**
 * Request hedging (src/data/hedge.ts): a request with no first token (no answer, when not streamed)
 * within its budget gets a second copy on the next-best endpoint; the first to answer wins and the
 * other is cancelled at once.
 */
const hedgingSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /**
     * `predicted`: `predictedMultiplier` × the TTFT the engine predicted for this request on its
     * target (queue + its own prefill); `p95`: `p95Multiplier` × the recent TTFT p95 of the model
     * for a prompt of this size. Both clamped to [`minBudgetMs`, `maxBudgetMs`], for an answer
     * that is not streamed × the target's mean end-to-end time instead, and `fixedBudgetMs` until
     * there is a figure; `fixed`: always `fixedBudgetMs`.
     */
    budget: z.enum(['predicted', 'p95', 'fixed']).default('predicted'),
    predictedMultiplier: z.number().positive().default(3),
    p95Multiplier: z.number().positive().default(2),
    fixedBudgetMs: z.number().int().positive().default(1000),
    minBudgetMs: z.number().int().min(1).default(50),
    maxBudgetMs: z.number().int().min(1).default(10_000),
    /** Most hedges as a percentage of requests (a token bucket per router thread). */
    maxExtraPercent: z.number().min(0).max(100).default(5),
    /** Hedges the bucket may spend at once after a quiet spell. */
    burst: z.number().int().min(1).default(2),
    /**
     * The fleet counts as saturated, and nothing is hedged, when the next-best endpoint reports
     * this many requests waiting or more, or its predicted wait exceeds `saturatedWaitMs`.
     */
    saturatedQueueDepth: z.number().int().min(1).default(8),
    saturatedWaitMs: z.number().int().min(1).default(2000),
    sloClasses: z
      .strictObject({ latency: hedgingClassSchema.optional(), throughput: hedgingClassSchema.optional() })
      .default({}),
  })
  .prefault({});

/** Routing decisions (src/scoring): which profile, extra profiles, the zone table, admission. */
const scoringSchema = z
  .strictObject({
    /** Profile the router uses: a built-in (`default`, `least-outstanding`, `llm-d`, …) or one below. */
    profile: z.string().min(1).default('default'),
    profiles: z.record(z.string(), scoringProfileSchema).default({}),
    zones: z
      .strictObject({
        /** Node id → zone, for nodes the router learns of only through state. */
        nodes: z.record(z.string(), z.string()).default({}),
        /** Network cost between zones (symmetric); same zone or an absent pair costs nothing. */
        links: z
          .array(
            z.strictObject({
              from: z.string(),
              to: z.string(),
              rttMs: z.number().min(0),
              bandwidthMbps: z.number().positive().optional(),
            }),
          )
          .default([]),
      })
      .prefault({}),
    /** Prior prefill rates (tokens/s) per GPU type, before outcomes refine them. */
    serviceRates: z.record(z.string(), z.number().positive()).default({}),
    /** Tokens per block of the router's prefix index, and blocks kept per endpoint. */
    prefixBlockTokens: z.number().int().positive().default(64),
    prefixCapacityBlocks: z.number().int().positive().default(8192),
    admission: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Longest predicted queueing wait admitted per SLO class (a request's own timeout may lower it). */
        maxWaitMs: z
          .strictObject({
            latency: z.number().positive().default(10_000),
            throughput: z.number().positive().default(120_000),
          })
          .prefault({}),
      })
      .prefault({}),
  })
  .prefault({});

/**
 * The control plane's store (src/control/store): policies, pins, tenants, drains and events.
 * `embedded` (the default) is one node's durable SQLite file; `etcd` is shared by every node that
 * names the same cluster, for meshes of several nodes.
 */
const controlSchema = z
  .strictObject({
    store: z
      .union([
        z.strictObject({
          embedded: z
            .strictObject({
              /** Default `<node.dataDir>/<node.id>/control.db`. */
              path: z.string().min(1).optional(),
            })
            .prefault({}),
        }),
        z.strictObject({
          etcd: z.strictObject({
            endpoints: z.array(z.url({ protocol: /^https?$/ })).min(1),
            /** Every key of this mesh lives under it, so meshes may share a cluster. */
            prefix: z
              .string()
              .regex(/^\/.*\/$/, 'starts and ends with "/"')
              .default('/infermesh/'),
            /** A call the cluster does not answer in time fails as `unavailable`. */
            requestTimeoutMs: z.number().int().positive().default(3000),
          }),
        }),
      ])
      .default({ embedded: {} }),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    apiVersion: z.literal('infermesh/v1'),
    node: z
      .strictObject({
        id: name.default(() => hostname().replace(/[^a-zA-Z0-9._-]/g, '-') || 'node'),
        roles: z.array(z.enum(NODE_ROLES)).min(1).default(['router', 'gpu']),
        zone: z.string().default('default'),
        labels: z.record(z.string(), z.string()).default({}),
        /** Where the node keeps what must outlive a restart (the embedded control store), relative to the working directory. */
        dataDir: z.string().min(1).default('.infermesh'),
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
    /** Traces over OTLP/HTTP (`observability.tracing`; the `OTEL_*` variables override it). */
    observability: observabilityConfigSchema,
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
        /**
         * Most connections the node keeps open to one endpoint, shared out across the workers. With
         * one request per connection (streams never queue behind each other), this bounds the
         * concurrent requests per endpoint; sized for 10,000+ streams.
         */
        connectionsPerEndpoint: z.number().int().positive().default(16_384),
        /**
         * Threads that accept and relay traffic, all on the same port (SO_REUSEPORT): `auto` is one
         * per core the process may use. Routing decisions stay one node's (docs/ARCHITECTURE.md).
         */
        workers: z.union([z.literal('auto'), z.number().int().min(1).max(256)]).default('auto'),
        /** Pending connections the kernel queues per worker before accept (capped by net.core.somaxconn). */
        listenBacklog: z.number().int().min(1).max(65_535).default(8192),
        /**
         * On SIGTERM/SIGINT, how long in-flight requests and streams may run on before the rest are
         * ended with the protocol's error event.
         */
        drainTimeoutMs: z.number().int().min(0).default(30_000),
        hedging: hedgingSchema,
        /**
         * Relay this router's routing (requests sent, first tokens, ends) to the other routers
         * through each GPU node it follows (`StatePlane.ShareInFlight`), and count theirs as its own,
         * so active-active routers decide as one would (src/scoring/route-relay.ts).
         */
        shareInFlight: z.boolean().default(true),
      })
      .prefault({}),
    scoring: scoringSchema,
    membership: membershipSchema,
    control: controlSchema,
    /** Identities, TLS and who may do what (docs/SECURITY.md). */
    security: z
      .strictObject({
        auth: authConfigSchema,
        apiKeys: apiKeysConfigSchema,
        tls: tlsConfigSchema,
        /** Serve the API or router off loopback with no authentication (refused without it); warned at every start. */
        insecure: z.boolean().default(false),
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
        telemetry: gpuTelemetrySchema,
        quarantine: gpuQuarantineSchema,
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
    const hedging = cfg.router.hedging;
    const budgets: [PropertyKey[], { minBudgetMs?: number; maxBudgetMs?: number }][] = [[[], hedging]];
    for (const [k, v] of Object.entries(hedging.sloClasses)) if (v) budgets.push([['sloClasses', k], v]);
    for (const [where, c] of budgets) {
      const min = c.minBudgetMs ?? hedging.minBudgetMs;
      const max = c.maxBudgetMs ?? hedging.maxBudgetMs;
      if (min > max) {
        ctx.addIssue({
          code: 'custom',
          path: ['router', 'hedging', ...where, 'minBudgetMs'],
          message: `minBudgetMs (${min}) exceeds maxBudgetMs (${max})`,
        });
      }
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
    const gossipHost = cfg.membership.bind?.slice(0, cfg.membership.bind.lastIndexOf(':'));
    if ((gossipHost === '0.0.0.0' || gossipHost === '[::]') && cfg.membership.advertise === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['membership', 'advertise'],
        message: 'a wildcard bind needs the address other members reach this one at',
      });
    }
    if (cfg.membership.bind === undefined) {
      for (const key of ['seeds', 'keyring', 'advertise'] as const) {
        const v = cfg.membership[key];
        if (v !== undefined && v.length > 0)
          ctx.addIssue({ code: 'custom', path: ['membership', key], message: 'needs membership.bind' });
      }
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
export type GpuTelemetryConfig = MeshConfig['gpu']['telemetry'];
export type GpuQuarantineConfig = MeshConfig['gpu']['quarantine'];
export type HedgingConfig = MeshConfig['router']['hedging'];
export type ScoringConfig = MeshConfig['scoring'];
export type MembershipConfig = MeshConfig['membership'];
export type ScoringProfileConfig = ScoringConfig['profiles'][string];

/** One problem found in a config, with the dotted path to the offending key. */
export interface ConfigProblem {
  path: string;
  message: string;
}

/** A zod issue path as config problems print it: `router.peers[0].url`; `(root)` for the whole value. */
export function formatPath(path: readonly PropertyKey[]): string {
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
