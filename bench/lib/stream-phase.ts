/**
 * One phase of the streaming benchmark: N concurrent SSE streams from several pinned client
 * processes (backends/stream-client.ts) against one URL, while /proc samples the CPU and memory
 * of the processes under test; then the per-stream records summed up.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientSpec, StreamOutcome, StreamRecord } from '../backends/stream-client.ts';
import type { CoreSet } from './cores.ts';
import { startCpuMeter, startRssSampler, type CpuReading } from './proc-stats.ts';
import { spawnPinned, tempDir, type Pinned } from './procs.ts';
import { percentile } from './report.ts';

const root = new URL('../../', import.meta.url).pathname;

export interface PhaseOptions {
  url: string;
  streams: number;
  rampMs: number;
  /** `max_tokens` cycle: stream i asks for tokens[i % length]. */
  tokens: number[];
  deadlineMs: number;
  clients: number;
  clientCores: CoreSet;
  /** Processes under test (meshd): their CPU and peak RSS are reported. */
  targetPids: number[];
  backendPids: number[];
  /** Called once every stream has been opened (the drain scenario's SIGTERM). */
  onAllOpened?: () => void;
}

/** A stream with the absolute (epoch ms) time it ended, for timing against a SIGTERM. */
export interface TimedRecord extends StreamRecord {
  endEpochMs?: number;
}

export interface PhaseResult {
  records: TimedRecord[];
  wallSeconds: number;
  target: CpuReading & { peakRssBytes: number };
  backend: CpuReading;
  clients: CpuReading;
}

interface Progress {
  opened: number;
  finished: number;
}

function lastProgress(p: Pinned): Progress {
  const lines = p.output().match(/^PROGRESS (.*)$/gm);
  const last = lines?.at(-1);
  return last ? (JSON.parse(last.slice('PROGRESS '.length)) as Progress) : { opened: 0, finished: 0 };
}

/** Runs one phase to the end (every client exited) and returns what it measured. */
export async function runStreamPhase(opts: PhaseOptions): Promise<PhaseResult> {
  const dir = tempDir('streams');
  const per = Math.floor(opts.streams / opts.clients);
  const counts = Array.from({ length: opts.clients }, (_, i) =>
    i < opts.streams % opts.clients ? per + 1 : per,
  ).filter((n) => n > 0);
  const target = startCpuMeter(opts.targetPids);
  const rss = startRssSampler(opts.targetPids);
  const backend = startCpuMeter(opts.backendPids);
  const clients: Pinned[] = [];
  for (const [i, streams] of counts.entries()) {
    const spec: ClientSpec = {
      url: opts.url,
      streams,
      // Each client ramps over the whole window, so together they open streams evenly.
      rampMs: opts.rampMs,
      tokens: opts.tokens,
      deadlineMs: opts.deadlineMs,
      out: join(dir, `client-${i}.json`),
    };
    clients.push(
      await spawnPinned({
        name: `stream-client ${i}`,
        cores: opts.clientCores,
        command: process.execPath,
        args: ['bench/backends/stream-client.ts', JSON.stringify(spec)],
        cwd: root,
        ready: '',
        stdin: 'pipe',
      }),
    );
  }
  const clientCpu = startCpuMeter(clients.map((c) => c.pid));
  const watcher = setInterval(() => {
    const opened = clients.reduce((n, c) => n + lastProgress(c).opened, 0);
    if (opened >= opts.streams && opts.onAllOpened) {
      opts.onAllOpened();
      opts.onAllOpened = undefined;
    }
  }, 100);
  const codes = await Promise.all(clients.map((c) => c.exited));
  clearInterval(watcher);
  const result = {
    target: { ...target.stop(), peakRssBytes: rss.stop() },
    backend: backend.stop(),
    clients: clientCpu.stop(),
  };
  const records: TimedRecord[] = [];
  for (const [i, code] of codes.entries()) {
    if (code !== 0) throw new Error(`stream client ${i} exited with ${code}:\n${clients[i]!.output()}`);
    const file = JSON.parse(readFileSync(join(dir, `client-${i}.json`), 'utf8')) as {
      t0EpochMs: number;
      records: StreamRecord[];
    };
    for (const r of file.records) {
      records.push({
        ...r,
        ...(r.endMs === undefined ? {} : { endEpochMs: file.t0EpochMs + r.startMs + r.endMs }),
      });
    }
  }
  return { records, wallSeconds: result.target.wallSeconds, ...result };
}

export interface StreamSummary {
  streams: number;
  outcomes: Partial<Record<StreamOutcome, number>>;
  /** Streams that ended with `data: [DONE]` and no error event. */
  completedPct: number;
  /** Streams that saw `data: [DONE]` at all (error-ended ones included). */
  sawDonePct: number;
  resets: number;
  /** Error codes of resets and connect errors, most frequent first. */
  errors: [string, number][];
  ttfbMs: { p50?: number; p90?: number; p99?: number; max?: number };
  headersMs: { p50?: number; p99?: number };
  chunks: number;
}

export function summarize(records: readonly StreamRecord[]): StreamSummary {
  const outcomes: Partial<Record<StreamOutcome, number>> = {};
  const errors = new Map<string, number>();
  for (const r of records) {
    outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    if (r.error) errors.set(r.error, (errors.get(r.error) ?? 0) + 1);
  }
  const sorted = (values: (number | undefined)[]) =>
    values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  const ttfb = sorted(records.map((r) => r.ttfbMs));
  const headers = sorted(records.map((r) => r.headersMs));
  const n = records.length;
  return {
    streams: n,
    outcomes,
    completedPct: n ? (100 * (outcomes.done ?? 0)) / n : 0,
    sawDonePct: n ? (100 * records.filter((r) => r.sawDone).length) / n : 0,
    resets: outcomes.reset ?? 0,
    errors: [...errors].sort((a, b) => b[1] - a[1]).slice(0, 5),
    ttfbMs: {
      p50: percentile(ttfb, 50),
      p90: percentile(ttfb, 90),
      p99: percentile(ttfb, 99),
      max: ttfb.at(-1),
    },
    headersMs: { p50: percentile(headers, 50), p99: percentile(headers, 99) },
    chunks: records.reduce((sum, r) => sum + r.chunks, 0),
  };
}
