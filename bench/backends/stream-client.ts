/**
 * The streaming benchmark's load client: opens `streams` concurrent SSE chat-completion streams,
 * one connection each, started evenly over `rampMs`, and records per stream how it went.
 *
 *   node bench/backends/stream-client.ts '{"url":"http://127.0.0.1:8080","streams":2500,"rampMs":10000,
 *     "tokens":[200],"deadlineMs":90000,"out":"/tmp/client-0.json"}'
 *
 * `tokens` is a cycle of `max_tokens` values (e.g. `[35, 210]`: short and long streams
 * alternate). Per stream: the time to the response headers and to the first body byte (TTFB), the
 * number of data events, and how it ended: `done` (`data: [DONE]`, no error event), `error-event`
 * (an SSE error event, with or without a [DONE] after it), `reset` (the connection broke
 * mid-response), `incomplete` (a clean end without [DONE]), `http-error`, `connect-error`, or
 * `timeout` (still open at `deadlineMs`, then aborted). Every 250 ms it prints
 * `PROGRESS {"opened","finished","open"}`; at the end it writes `{t0EpochMs, records}` to `out` and
 * prints `FINISHED`. Raising the fd limit (`ulimit -n`) is the caller's job.
 */
import { Agent, request, type IncomingMessage } from 'node:http';
import { writeFileSync } from 'node:fs';
import { chatRequestBody } from '../lib/fake-vllm.ts';

export interface ClientSpec {
  url: string;
  streams: number;
  rampMs: number;
  tokens: number[];
  deadlineMs: number;
  out: string;
}

export type StreamOutcome =
  'done' | 'error-event' | 'reset' | 'incomplete' | 'http-error' | 'connect-error' | 'timeout';

export interface StreamRecord {
  /** `max_tokens` asked for. */
  tokens: number;
  /** ms since the client started, when the request went out. */
  startMs: number;
  status: number;
  headersMs?: number;
  ttfbMs?: number;
  /** ms from the request to the end (clean or not). */
  endMs?: number;
  /** Data events other than [DONE] and error events. */
  chunks: number;
  sawDone: boolean;
  sawError: boolean;
  outcome: StreamOutcome;
  /** The socket error's code or message, for resets and connect errors. */
  error?: string;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as ClientSpec;
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
const records: StreamRecord[] = [];
const t0 = performance.now();
let opened = 0;
let finished = 0;
const live = new Set<{ abort: () => void }>();

function startStream(i: number): void {
  const tokens = spec.tokens[i % spec.tokens.length]!;
  const body = chatRequestBody({ stream: true, maxTokens: tokens });
  const started = performance.now();
  const rec: StreamRecord = {
    tokens,
    startMs: started - t0,
    status: 0,
    chunks: 0,
    sawDone: false,
    sawError: false,
    outcome: 'timeout',
  };
  records.push(rec);
  opened++;
  let ended = false;
  let timedOut = false;
  const end = (outcome: StreamOutcome, error?: string) => {
    if (ended) return;
    ended = true;
    rec.outcome = timedOut ? 'timeout' : outcome;
    rec.endMs = performance.now() - started;
    if (error) rec.error = error;
    finished++;
    live.delete(handle);
  };
  const req = request(`${spec.url}/v1/chat/completions`, {
    method: 'POST',
    agent,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
  });
  const handle = {
    abort: () => {
      timedOut = true;
      req.destroy();
    },
  };
  live.add(handle);
  req.on('response', (res: IncomingMessage) => {
    rec.status = res.statusCode ?? 0;
    rec.headersMs = performance.now() - started;
    let tail = '';
    res.setEncoding('utf8');
    res.on('data', (text: string) => {
      rec.ttfbMs ??= performance.now() - started;
      tail += text;
      let cut: number;
      while ((cut = tail.indexOf('\n\n')) >= 0) {
        const event = tail.slice(0, cut);
        tail = tail.slice(cut + 2);
        if (event.startsWith('data: [DONE]')) rec.sawDone = true;
        else if (event.includes('"error"')) rec.sawError = true;
        else if (event.startsWith('data:')) rec.chunks++;
      }
    });
    res.on('end', () => {
      if (rec.status !== 200) end('http-error');
      else if (rec.sawError) end('error-event');
      else end(rec.sawDone ? 'done' : 'incomplete');
    });
    res.on('error', (err: NodeJS.ErrnoException) => end('reset', err.code ?? err.message));
    res.on('close', () => end('reset', 'closed before the end of the response'));
  });
  req.on('error', (err: NodeJS.ErrnoException) => {
    end(rec.headersMs === undefined ? 'connect-error' : 'reset', err.code ?? err.message);
  });
  req.end(body);
}

function progress(): void {
  process.stdout.write(`PROGRESS ${JSON.stringify({ opened, finished, open: opened - finished })}\n`);
}

// Start streams on schedule: stream i at i × rampMs / streams.
let next = 0;
const ramp = setInterval(() => {
  const due = Math.min(spec.streams, Math.floor(((performance.now() - t0) / spec.rampMs) * spec.streams) + 1);
  while (next < due) startStream(next++);
  if (next >= spec.streams) clearInterval(ramp);
}, 5);
const ticker = setInterval(progress, 250);

const deadline = setTimeout(() => {
  for (const h of [...live]) h.abort();
}, spec.deadlineMs);

const finish = setInterval(() => {
  if (next < spec.streams || finished < spec.streams) return;
  clearInterval(finish);
  clearInterval(ticker);
  clearTimeout(deadline);
  progress();
  writeFileSync(spec.out, JSON.stringify({ t0EpochMs: performance.timeOrigin + t0, records }));
  process.stdout.write('FINISHED\n');
  process.exit(0);
}, 100);

// The parent holds our stdin open; EOF means it is gone, so stop too.
process.stdin.on('end', () => process.exit(1));
process.stdin.on('error', () => process.exit(1));
process.stdin.resume();
