/**
 * The streams report: direct against through-meshd (completion, resets, TTFB and the added TTFB,
 * meshd's peak RSS, chunks relayed per second and per CPU-second), the drain scenario, and the
 * data-plane targets checked, with what the numbers say about a miss.
 */
import type { StreamOutcome } from '../backends/stream-client.ts';
import { machineLine, type Machine } from './machine.ts';
import { atLeast, atMost, fmt, int, percentile, table, targetsTable, type TargetCheck } from './report.ts';
import type { PhaseResult, StreamSummary, TimedRecord } from './stream-phase.ts';

export interface PhaseReport {
  /** `capacity`: meshd with one worker on one core, offered more chunks than it can relay. */
  via: 'direct' | 'meshd' | 'capacity';
  summary: StreamSummary;
  /** The phase's measurements (records dropped: the summary has what matters). */
  phase: PhaseResult;
  /** meshd's exit code when stopped (SIGINT) after the phase. */
  meshdExit?: number;
}

export interface StreamsSettings {
  streams: number;
  tokens: number;
  rate: number;
  workers: number;
  rampSeconds: number;
  clients: number;
  drainStreams: number;
  drainTimeoutMs: number;
  capacityStreams: number;
  capacityRate: number;
  capacityTokens: number;
}

interface GroupSummary {
  total: number;
  outcomes: Partial<Record<StreamOutcome, number>>;
  /** Ended with [DONE] and no error event. */
  done: number;
  /** Ended with an SSE error event followed by `data: [DONE]`: cut cleanly. */
  cutCleanly: number;
  /** Open when the SIGTERM went out. */
  openAtSigterm: number;
  /** ms from the SIGTERM to the end of the streams that did not finish normally: p50 and max. */
  cutAfterMs: { p50?: number; max?: number };
}

export interface DrainInfo {
  streams: number;
  shortTokens: number;
  longTokens: number;
  drainTimeoutMs: number;
  sigtermAt?: number;
  /** Exit code and ms from the SIGTERM; absent when no SIGTERM went out. */
  exit?: { code: number; afterMs: number };
}

export type DrainSummary = DrainInfo & { short: GroupSummary; long: GroupSummary };

function group(records: TimedRecord[], sigtermAt: number | undefined): GroupSummary {
  const outcomes: Partial<Record<StreamOutcome, number>> = {};
  for (const r of records) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const cut = records.filter((r) => r.outcome !== 'done' && r.endEpochMs !== undefined);
  const after = cut.map((r) => r.endEpochMs! - (sigtermAt ?? 0)).sort((a, b) => a - b);
  return {
    total: records.length,
    outcomes,
    done: outcomes.done ?? 0,
    cutCleanly: records.filter((r) => r.outcome === 'error-event' && r.sawDone).length,
    openAtSigterm:
      sigtermAt === undefined
        ? 0
        : records.filter((r) => r.endEpochMs === undefined || r.endEpochMs > sigtermAt).length,
    cutAfterMs: sigtermAt === undefined ? {} : { p50: percentile(after, 50), max: after.at(-1) },
  };
}

export function drainSummary(records: TimedRecord[], info: DrainInfo): DrainSummary {
  return {
    ...info,
    short: group(
      records.filter((r) => r.tokens === info.shortTokens),
      info.sigtermAt,
    ),
    long: group(
      records.filter((r) => r.tokens !== info.shortTokens),
      info.sigtermAt,
    ),
  };
}

const outcomesText = (o: Partial<Record<string, number>>) =>
  Object.entries(o)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || '–';

/** Chunks relayed per CPU-second of meshd: what one core of it relays. */
const chunksPerCpuSecond = (p: PhaseReport) =>
  p.phase.target.cpuSeconds > 0 ? p.summary.chunks / p.phase.target.cpuSeconds : undefined;

export function streamsTargets(
  phases: PhaseReport[],
  drain: DrainSummary | undefined,
  s: StreamsSettings,
): TargetCheck[] {
  const direct = phases.find((p) => p.via === 'direct');
  const meshd = phases.find((p) => p.via === 'meshd');
  const checks: TargetCheck[] = [];
  const scale = `${int(s.streams)} streams, ${s.workers} workers`;
  if (meshd) {
    const m = meshd.summary;
    const t = meshd.phase.target;
    const busy = `meshd kept ${fmt(t.cores)} of its ${s.workers} worker cores busy`;
    const clients = meshd.phase.clients;
    const clientNote =
      clients.cores >= 0.85 * s.clients ? `the clients used ${fmt(clients.cores)} of ${s.clients} cores` : '';
    const directNote = direct
      ? `direct: ${fmt(direct.summary.completedPct)}% done, ${direct.summary.resets} resets`
      : '';
    const errors = m.errors.map(([e, n]) => `${e} ×${n}`).join(', ');
    const outcomeNote = `outcomes: ${outcomesText(m.outcomes)}${errors ? `; errors: ${errors}` : ''}`;
    checks.push(
      atLeast(`${scale}: 100% complete with data: [DONE]`, m.completedPct, 100, {
        unit: '%',
        why: [outcomeNote, directNote].join('; '),
      }),
      atMost(`${scale}: no resets`, m.resets, 0, { digits: 0, why: outcomeNote }),
      atMost(
        `${scale}: added TTFB p99 ≤ 50 ms`,
        direct && m.ttfbMs.p99 !== undefined && direct.summary.ttfbMs.p99 !== undefined
          ? m.ttfbMs.p99 - direct.summary.ttfbMs.p99
          : undefined,
        50,
        { unit: ' ms', digits: 1, why: [busy, clientNote].filter(Boolean).join('; ') },
      ),
      atMost(`${scale}: meshd total RSS < 1 GB`, t.peakRssBytes / 1e9, 1, {
        unit: ' GB',
        why: `${fmt(t.peakRssBytes / 1024 / Math.max(1, s.streams), 1)} KiB per stream`,
      }),
    );
  }
  const capacity = phases.find((p) => p.via === 'capacity');
  const relay = capacity ?? meshd;
  if (relay) {
    const t = relay.phase.target;
    const what = capacity
      ? `relay capacity, 1 worker on 1 core, ${int(capacity.summary.streams)} streams offered ${int(s.capacityRate * capacity.summary.streams)} chunks/s`
      : scale;
    checks.push(
      atLeast(`${what}: relay ≥ 60,000 SSE chunks/s per core`, chunksPerCpuSecond(relay), 60_000, {
        unit: ' chunks/CPU-s',
        digits: 0,
        why: `${int(relay.summary.chunks)} chunks for ${fmt(t.cpuSeconds, 1)} CPU-s of meshd (${fmt(t.cores)} cores busy)`,
      }),
    );
  }
  if (drain) {
    const scenario = `drain (${int(drain.streams)} streams open, SIGTERM, drainTimeoutMs ${drain.drainTimeoutMs})`;
    const short = drain.short;
    checks.push(
      atMost(`${scenario}: no stream that finishes within the timeout is cut`, short.total - short.done, 0, {
        unit: ' cut',
        digits: 0,
        why: `short streams: ${outcomesText(short.outcomes)}${drain.exit ? '' : '; no SIGTERM went out'}`,
      }),
      atLeast(
        `${scenario}: streams cut at the timeout end with an error event + [DONE] (not a reset)`,
        drain.long.total > 0
          ? (100 * drain.long.cutCleanly) / Math.max(1, drain.long.total - drain.long.done)
          : undefined,
        100,
        { unit: '%', digits: 1, why: `long streams: ${outcomesText(drain.long.outcomes)}` },
      ),
      {
        target: `${scenario}: meshd exits 0`,
        measured: drain.exit
          ? `exit ${drain.exit.code} after ${int(drain.exit.afterMs)} ms`
          : 'no SIGTERM sent',
        met: drain.exit ? drain.exit.code === 0 : undefined,
        note:
          drain.exit && drain.exit.code === 137
            ? 'did not exit within the drain timeout + 15 s: SIGKILLed'
            : '',
      },
    );
  }
  return checks;
}

export interface StreamsReport {
  date: string;
  machine: Machine;
  command: string;
  settings: StreamsSettings;
  cores: { meshd: string; clients: string; backend: string; shared: boolean };
  system: { fdLimit: string; somaxconn: string; ipLocalPortRange: string };
  phases: PhaseReport[];
  drain?: DrainSummary;
  targets: TargetCheck[];
}

function phaseRow(p: PhaseReport): (string | number)[] {
  const s = p.summary;
  const t = p.phase.target;
  const other = Object.entries(s.outcomes).filter(([k]) => k !== 'done' && k !== 'reset');
  const viaMeshd = p.via !== 'direct';
  return [
    p.via === 'capacity'
      ? 'relay capacity: meshd, 1 worker on 1 core'
      : viaMeshd
        ? 'through meshd'
        : 'direct to backend',
    int(s.streams),
    fmt(s.completedPct),
    fmt(s.sawDonePct),
    s.resets,
    outcomesText(Object.fromEntries(other)),
    fmt(s.ttfbMs.p50, 1),
    fmt(s.ttfbMs.p90, 1),
    fmt(s.ttfbMs.p99, 1),
    fmt(s.ttfbMs.max, 1),
    int(s.chunks),
    int(s.chunks / p.phase.wallSeconds),
    viaMeshd ? fmt(t.cores) : '–',
    viaMeshd ? int(chunksPerCpuSecond(p)) : '–',
    viaMeshd ? int(t.peakRssBytes / 2 ** 20) : '–',
    fmt(p.phase.backend.cores),
    fmt(p.phase.clients.cores),
  ];
}

function drainSection(d: DrainSummary): string {
  const row = (name: string, g: GroupSummary, tokens: number) => [
    `${name} (${tokens} tokens)`,
    g.total,
    g.openAtSigterm,
    g.done,
    g.cutCleanly,
    g.outcomes.reset ?? 0,
    outcomesText(g.outcomes),
    fmt(g.cutAfterMs.p50, 0),
    fmt(g.cutAfterMs.max, 0),
  ];
  return `## Drain

${int(d.streams)} streams through a fresh meshd with \`router.drainTimeoutMs: ${d.drainTimeoutMs}\`, short and long alternating; SIGTERM a second after the last one opened. meshd: ${d.exit ? `exit code ${d.exit.code}, ${int(d.exit.afterMs)} ms after the SIGTERM` : 'no SIGTERM went out (the streams never all opened)'}.

${table(
  [
    'streams',
    'count',
    'open at SIGTERM',
    'finished normally',
    'error event + [DONE]',
    'resets',
    'outcomes',
    'ended (not done) after SIGTERM p50 ms',
    'max ms',
  ],
  [
    row('short: due within the timeout', d.short, d.shortTokens),
    row('long: due after it', d.long, d.longTokens),
  ],
)}
`;
}

export function streamsMarkdown(r: StreamsReport): string {
  const s = r.settings;
  const direct = r.phases.find((p) => p.via === 'direct');
  const meshd = r.phases.find((p) => p.via === 'meshd');
  const added = (key: 'p50' | 'p99') =>
    direct && meshd && direct.summary.ttfbMs[key] !== undefined && meshd.summary.ttfbMs[key] !== undefined
      ? meshd.summary.ttfbMs[key] - direct.summary.ttfbMs[key]
      : undefined;
  const phases =
    r.phases.length === 0
      ? ''
      : `## Direct against through meshd

TTFB = request sent → first body byte (the first token's event). "chunks" = SSE data events the clients received; chunks/s over the phase's wall time (ramp and tail included); "chunks per CPU-s" = chunks ÷ meshd's CPU seconds, what one busy core of it relays.

${table(
  [
    'path',
    'streams',
    'done %',
    'saw [DONE] %',
    'resets',
    'other outcomes',
    'TTFB p50 ms',
    'p90 ms',
    'p99 ms',
    'max ms',
    'chunks',
    'chunks/s',
    'meshd cores used',
    'chunks per CPU-s',
    'meshd peak RSS MiB',
    'backend cores used',
    'client cores used',
  ],
  r.phases.map(phaseRow),
)}
${r.phases.some((p) => p.via === 'capacity') ? `\nThe relay-capacity row offers one meshd core more than it can relay (${int(s.capacityStreams)} streams at ${s.capacityRate} tokens/s, ${s.capacityTokens} tokens each, from a second backend) and measures what it delivers: chunks per CPU-second of a saturated core.\n` : ''}
Added TTFB through meshd: p50 ${fmt(added('p50'), 1)} ms, p99 ${fmt(added('p99'), 1)} ms.${meshd?.summary.errors.length ? ` Errors through meshd: ${meshd.summary.errors.map(([e, n]) => `${e} ×${n}`).join(', ')}.` : ''}${meshd?.meshdExit !== undefined ? ` meshd exited ${meshd.meshdExit} on SIGINT after the phase.` : ''}
`;
  return `# Streams

- date: ${r.date}
- machine: ${machineLine(r.machine)}
- command: \`${r.command}\`
- cores (\`taskset -c\`): meshd ${r.cores.meshd}, clients ${r.cores.clients} (${s.clients} processes), backend ${r.cores.backend} (one process per core)${r.cores.shared ? '. **The sets overlap: a smoke test, not a measurement.**' : ''}
- system: fd limit ${r.system.fdLimit}, net.core.somaxconn ${r.system.somaxconn}, ip_local_port_range ${r.system.ipLocalPortRange}
- workload: ${int(s.streams)} concurrent streams, ${s.tokens} tokens each at ${s.rate} tokens/s (first at once), opened evenly over ${s.rampSeconds} s, one connection each; meshd roles router + gpu, \`router.workers: ${s.workers}\`, admission off

${phases}
${r.drain ? drainSection(r.drain) : ''}
## Targets

${targetsTable(r.targets)}
`;
}
