/**
 * `mesh top`'s frame as a pure function: snapshot → lines, no I/O, so width fitting, sorting and
 * colour are unit-tested (render.test.ts). Rows are sorted by identity (node, then GPU index or
 * endpoint id), not by load: an operator watching a refreshing view finds a row where it was, and
 * trouble stands out by colour and in the summary line instead of by jumping to the top.
 */
import { fitTable, paint, visibleLength, clip, type Cell, type CellStyle, type Column } from './table.ts';
import type { TopEndpoint, TopGpu, TopNode, TopSnapshot } from './snapshot.ts';

/** How a frame is laid out. */
export interface RenderOptions {
  /** Terminal columns; no line is wider. */
  width: number;
  /** Terminal rows; when set, a longer frame is cut and says how much is hidden. */
  height?: number;
  /** ANSI colour (off for NO_COLOR, TERM=dumb and non-TTY output). */
  color: boolean;
  /** Shown after the header (e.g. `every 2s · q quits`). */
  hint?: string;
}

const NONE: Cell = { text: '-', style: 'dim' };
const cell = (text: string, style?: CellStyle): Cell => (style ? { text, style } : { text });
const num = (v: number | null, fmt: (v: number) => string): Cell => (v === null ? NONE : cell(fmt(v)));
const pct = (v: number | null) => num(v, (x) => `${Math.round(x * 100)}%`);
const ms = (v: number | null) =>
  num(v, (x) => (x >= 10_000 ? `${(x / 1000).toFixed(1)}s` : `${Math.round(x)}ms`));
/** GiB, as nvidia-smi and NVML report GPU memory. */
const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(1);

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** Nodes by id. */
export const sortNodes = (nodes: readonly TopNode[]) => [...nodes].sort((a, b) => byText(a.id, b.id));
/** GPUs by node, then index, then UUID (MIG instances share their parent's index). */
export const sortGpus = (gpus: readonly TopGpu[]) =>
  [...gpus].sort((a, b) => byText(a.node, b.node) || a.index - b.index || byText(a.uuid, b.uuid));
/** Endpoints by node, then endpoint id, then model. */
export const sortEndpoints = (eps: readonly TopEndpoint[]) =>
  [...eps].sort(
    (a, b) => byText(a.node, b.node) || byText(a.endpointId, b.endpointId) || byText(a.model, b.model),
  );

const NODE_STYLE: Record<TopNode['status'], CellStyle> = {
  healthy: 'ok',
  draining: 'warn',
  unhealthy: 'bad',
  offline: 'bad',
};
const HEALTH_STYLE: Record<string, CellStyle> = { healthy: 'ok', stale: 'warn', unhealthy: 'bad' };

const NODE_COLUMNS: Column[] = [
  { head: 'NODE', shrink: true },
  { head: 'ROLES', drop: 2 },
  { head: 'STATUS', drop: 1 },
  { head: 'ZONE', drop: 3 },
  { head: 'VERSION', drop: 4 },
];
const nodeRow = (n: TopNode): Cell[] => [
  cell(n.id),
  cell(n.roles.join(',') || '-'),
  cell(n.status, NODE_STYLE[n.status]),
  n.zone ? cell(n.zone) : NONE,
  n.version ? cell(n.version) : NONE,
];

// `drop`: the higher, the sooner a column goes on a narrow terminal; identity columns stay.
const GPU_COLUMNS: Column[] = [
  { head: 'NODE', shrink: true, max: 16 },
  { head: 'GPU', align: 'right' },
  { head: 'UUID', shrink: true, max: 16, drop: 7 },
  { head: 'NAME', shrink: true, max: 22, drop: 8 },
  { head: 'UTIL', align: 'right', drop: 2 },
  { head: 'MEMORY', align: 'right', drop: 3 },
  { head: 'TEMP', align: 'right', drop: 4 },
  { head: 'POWER', align: 'right', drop: 5 },
  { head: 'CLOCK', align: 'right', drop: 9 },
  { head: 'ECC', align: 'right', drop: 10 },
  { head: 'XID', align: 'right', drop: 10 },
  { head: 'STATE', shrink: true, max: 32, drop: 1 },
];

/** `ok`, `quarantined (REASON)`, or `unhealthy` (lost, or unhealthy without a stated reason). */
export function gpuStateText(g: TopGpu): Cell {
  if (g.healthy) return cell('ok', 'ok');
  return cell(g.quarantineReason ? `quarantined (${g.quarantineReason})` : 'unhealthy', 'bad');
}

const gpuRow = (g: TopGpu): Cell[] => [
  cell(g.node),
  cell(g.migProfile ? `${g.index}:${g.migProfile}` : String(g.index)),
  cell(g.uuid),
  g.name ? cell(g.name) : NONE,
  pct(g.utilization),
  g.memoryUsedBytes === null || g.memoryTotalBytes === null
    ? num(g.memoryUsedBytes, (u) => `${gib(u)}Gi`)
    : cell(`${gib(g.memoryUsedBytes)}/${gib(g.memoryTotalBytes)}Gi`),
  num(g.temperatureC, (t) => `${Math.round(t)}C`),
  g.powerWatts === null || g.powerLimitWatts === null
    ? num(g.powerWatts, (p) => `${Math.round(p)}W`)
    : cell(`${Math.round(g.powerWatts)}/${Math.round(g.powerLimitWatts)}W`),
  num(g.smClockMhz, (c) => `${c}MHz`),
  num(g.eccUncorrected, (e) => String(e)),
  num(g.xidLast, (x) => String(x)),
  gpuStateText(g),
];

const ENDPOINT_COLUMNS: Column[] = [
  { head: 'ENDPOINT', shrink: true, max: 24 },
  { head: 'MODEL', shrink: true, max: 28 },
  { head: 'RUNTIME', drop: 9 },
  { head: 'HEALTH', shrink: true, max: 20, drop: 1 },
  { head: 'QUEUE', align: 'right', drop: 2 },
  { head: 'RUN', align: 'right', drop: 3 },
  { head: 'KV', align: 'right', drop: 4 },
  { head: 'PREFIX', align: 'right', drop: 7 },
  { head: 'TTFT95', align: 'right', drop: 6 },
  { head: 'ITL95', align: 'right', drop: 8 },
  { head: 'INFL', align: 'right', drop: 5 },
];

/** Health, `warming`, and whether a GPU behind the endpoint is out of service (no traffic goes there). */
function healthCell(e: TopEndpoint, outGpus: ReadonlySet<string>): Cell {
  const parts = [e.health];
  if (e.warming) parts.push('warming');
  else if (!e.loaded) parts.push('unloaded');
  const gpuOut = e.gpuUuids.some((u) => outGpus.has(`${e.node}\u0000${u}`));
  if (gpuOut) parts.push('gpu out');
  const style = gpuOut ? 'bad' : (HEALTH_STYLE[e.health] ?? 'bad');
  return cell(parts.join(', '), e.warming && style === 'ok' ? 'warn' : style);
}

const endpointRow = (e: TopEndpoint, outGpus: ReadonlySet<string>): Cell[] => [
  cell(e.endpointId),
  cell(e.model),
  cell(e.runtime || '-'),
  healthCell(e, outGpus),
  num(e.queueDepth, String),
  num(e.running, String),
  pct(e.kvCacheUsage),
  pct(e.prefixCacheHitRate),
  ms(e.ttftP95Ms),
  ms(e.itlP95Ms),
  num(e.inFlight, String),
];

/** The one-line fleet summary: counts, with what is wrong coloured. */
function summary(s: TopSnapshot, color: boolean): string {
  const healthyNodes = s.nodes.filter((n) => n.status === 'healthy').length;
  const out = s.gpus.filter((g) => !g.healthy).length;
  const healthyEps = s.endpoints.filter((e) => e.health === 'healthy').length;
  const part = (label: string, total: number, text: string, bad: boolean) =>
    `${label} ${total} (${paint(text, bad ? 'bad' : undefined, color)})`;
  return [
    part('nodes', s.nodes.length, `${healthyNodes} healthy`, healthyNodes < s.nodes.length),
    part('gpus', s.gpus.length, `${out} quarantined/out`, out > 0),
    part('endpoints', s.endpoints.length, `${healthyEps} healthy`, healthyEps < s.endpoints.length),
  ].join('  ');
}

/** Renders one frame: header, summary, then the NODES, GPUS and ENDPOINTS tables. */
export function renderFrame(s: TopSnapshot, options: RenderOptions): string[] {
  const { color } = options;
  const width = Math.max(1, Math.floor(options.width));
  const outGpus = new Set(s.gpus.filter((g) => !g.healthy).map((g) => `${g.node}\u0000${g.uuid}`));
  const section = (title: string, columns: Column[], rows: Cell[][]) => [
    '',
    paint(`${title} (${rows.length})`, 'head', color),
    ...(rows.length > 0 ? fitTable(columns, rows, width, color) : [paint('(none)', 'dim', color)]),
  ];
  const header = `mesh top  ${s.endpoint}  ${s.time.replace(/\.\d+Z$/, 'Z')}${options.hint ? `  ${options.hint}` : ''}`;
  const lines = [
    header,
    summary(s, color),
    ...section('NODES', NODE_COLUMNS, sortNodes(s.nodes).map(nodeRow)),
    ...section('GPUS', GPU_COLUMNS, sortGpus(s.gpus).map(gpuRow)),
    ...section(
      'ENDPOINTS',
      ENDPOINT_COLUMNS,
      sortEndpoints(s.endpoints).map((e) => endpointRow(e, outGpus)),
    ),
  ].map((l) => (visibleLength(l) > width ? clip(l, width) : l));
  const height = options.height;
  if (height === undefined || height < 2 || lines.length <= height) return lines;
  const hidden = lines.length - (height - 1);
  const more = paint(clip(`… ${hidden} more lines (enlarge the terminal)`, width), 'dim', color);
  return [...lines.slice(0, height - 1), more];
}
