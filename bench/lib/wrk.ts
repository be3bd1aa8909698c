/**
 * wrk runs, pinned to the load cores: closed loop (as many requests as the connections allow) for
 * throughput, or paced to a fixed rate for latency at a load that saturates nothing. The Lua
 * script's `done()` prints the numbers as JSON with microsecond percentiles, so nothing is read
 * from wrk's rounded text; `delay()` paces each thread to its share of the rate on a monotonic
 * clock (LuaJIT's FFI: clock_gettime), taking a new slot per request.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreSet } from './cores.ts';
import { spawnPinned, tempDir } from './procs.ts';

export interface WrkOptions {
  url: string;
  cores: CoreSet;
  connections: number;
  seconds: number;
  /** POST body (JSON). */
  body: string;
  /** Requests per second over all threads; absent = closed loop, as fast as it goes. */
  rate?: number;
  /** Default: one per load core. */
  threads?: number;
}

export interface WrkResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** Milliseconds. */
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  /** Cores wrk itself kept busy (its CPU time ÷ the run's duration): near its thread count, wrk was the limit. */
  wrkCores: number;
}

const PACING = `
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local next_at = nil
function delay()
  local now = now_ms()
  -- Far behind (a stall): start a fresh schedule rather than firing a burst to catch up.
  if next_at == nil or next_at < now - 100 then next_at = now end
  local wait = next_at - now
  next_at = next_at + interval_ms
  if wait < 0 then return 0 end
  return wait
end
`;

const DONE = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"cpu_s":%.3f,"p50":%.1f,"p90":%.1f,"p99":%.1f,"p999":%.1f,"max":%.1f,"mean":%.1f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, os.clock(),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
`;

function script(opts: WrkOptions, threads: number): string {
  const lines = [
    'wrk.method = "POST"',
    'wrk.headers["Content-Type"] = "application/json"',
    `wrk.body = ${JSON.stringify(opts.body)}`,
  ];
  if (opts.rate) lines.push(`interval_ms = ${(1000 * threads) / opts.rate}`, PACING);
  lines.push(DONE);
  const file = join(tempDir('wrk'), 'post.lua');
  writeFileSync(file, lines.join('\n'));
  return file;
}

/** Runs wrk once and returns its numbers (errors are counted, not thrown: the report shows them). */
export async function runWrk(opts: WrkOptions): Promise<WrkResult> {
  const threads = Math.max(1, Math.min(opts.threads ?? opts.cores.cores.length, opts.connections));
  const args = [
    `-t${threads}`,
    `-c${opts.connections}`,
    `-d${opts.seconds}s`,
    '--timeout',
    '5s',
    '-s',
    script(opts, threads),
    opts.url,
  ];
  const wrk = await spawnPinned({ name: 'wrk', cores: opts.cores, command: 'wrk', args, ready: '' });
  const code = await wrk.exited;
  const line = /^WRKJSON (.*)$/m.exec(wrk.output())?.[1];
  if (code !== 0 || !line)
    throw new Error(`wrk failed (exit ${code}):\nwrk ${args.join(' ')}\n${wrk.output()}`);
  const j = JSON.parse(line) as Record<string, number>;
  const ms = (key: string) => Math.round(j[key]!) / 1000;
  const seconds = j.duration_us! / 1e6;
  return {
    requests: j.requests!,
    seconds,
    requestsPerSecond: j.requests! / seconds,
    latencyMs: {
      p50: ms('p50'),
      p90: ms('p90'),
      p99: ms('p99'),
      p999: ms('p999'),
      max: ms('max'),
      mean: ms('mean'),
    },
    errors: { connect: j.connect!, read: j.read!, write: j.write!, status: j.status!, timeout: j.timeout! },
    wrkCores: j.cpu_s! / seconds,
  };
}

/** Total errors of a run (socket errors, timeouts and non-2xx/3xx answers). */
export function errorCount(r: WrkResult): number {
  const e = r.errors;
  return e.connect + e.read + e.write + e.status + e.timeout;
}
