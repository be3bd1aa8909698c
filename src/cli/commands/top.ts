/**
 * `mesh top`: the fleet (nodes, GPUs, endpoints) in the terminal, refreshed every `--interval`.
 *
 * It polls the list RPCs (ListNodes, ListGpuStates, ListModelStates) rather than following the
 * StatePlane watches. Model and GPU states change on every scrape (every 100 ms to 1 s per
 * endpoint), so a watch would stream a change nearly all the time and the view would coalesce
 * them to a readable rate anyway; nodes have no watch at all (only control events); and one round
 * of list calls per frame gives a frame whose three tables are read at the same moment, costs the
 * node a bounded amount per viewer, and works through any HTTP/1.1 proxy the CLI goes through.
 *
 * On a terminal (table output, stdout a TTY, not `--once`) it draws full-screen on the alternate
 * screen and keeps the last frame with an error line while the node does not answer; otherwise it
 * prints frames one after the other (JSON: one snapshot a line) and fails on the first error.
 */
import type { MeshClients } from '../client.ts';
import { formatResult, formatUpdate, useColor } from '../output.ts';
import type { CommandOutput } from '../runner.ts';
import { renderFrame } from '../top/render.ts';
import { readSnapshot, type TopSnapshot } from '../top/snapshot.ts';
import { openScreen, processTerminal, type Screen, type TopTerminal } from '../top/terminal.ts';

/** Options of `mesh top`. */
export interface TopOptions {
  once?: boolean;
  /** Milliseconds between frames. */
  interval: number;
  /** Stop by itself after this many frames. */
  frames?: number;
  /** The node's metrics URL, for the router's in-flight requests per endpoint. */
  metricsUrl?: string;
}

/** The global options `mesh top` uses besides its own. */
export interface TopContext {
  endpoint: string;
  timeoutMs: number;
  terminal?: TopTerminal;
}

const NO_VIEW = { head: [], rows: [] };

/** Waits `ms`, or less when `signal` aborts. */
const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/** Terminal width: the TTY's, else `COLUMNS`, else unlimited (a pipe or file is not cut). */
function widthOf(term: TopTerminal, tty: boolean): number {
  if (tty && term.stdout.columns) return term.stdout.columns;
  const env = Number(term.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : Number.MAX_SAFE_INTEGER;
}

/** Runs `mesh top`; prints through `out` (or the screen) and returns nothing to print. */
export async function top(
  clients: MeshClients,
  opts: TopOptions,
  out: CommandOutput,
  ctx: TopContext,
): Promise<undefined> {
  const term = ctx.terminal ?? processTerminal();
  const fullScreen = out.format === 'table' && !opts.once && Boolean(term.stdout.isTTY);
  const color = useColor(term.env, term.stdout.isTTY);
  const limit = opts.once ? 1 : opts.frames;
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  out.signal.addEventListener('abort', onInterrupt, { once: true });
  // Calls carry the stop signal, so `q` or Ctrl-C does not wait for a slow answer.
  const live: MeshClients = { ...clients, callOptions: { ...clients.callOptions, signal: stop.signal } };
  const read = () =>
    readSnapshot(live, {
      endpoint: ctx.endpoint,
      metricsUrl: opts.metricsUrl,
      timeoutMs: ctx.timeoutMs,
      signal: stop.signal,
    });

  let last: TopSnapshot | undefined;
  let problem: string | undefined;
  let screen: Screen | undefined;
  const hint = () =>
    [`every ${opts.interval / 1000}s`, term.stdin.isTTY ? 'q quits' : 'Ctrl-C quits', problem]
      .filter(Boolean)
      .join(' · ');
  const redraw = () => {
    if (!screen || !last) return;
    const width = widthOf(term, true);
    screen.draw(renderFrame(last, { width, height: term.stdout.rows, color, hint: hint() }));
  };
  const print = (snapshot: TopSnapshot, first: boolean) => {
    if (fullScreen) return redraw();
    if (out.format !== 'table') {
      const text = opts.once
        ? formatResult(snapshot, NO_VIEW, out.format, false)
        : formatUpdate(snapshot, NO_VIEW, out.format, { color: false, tty: false, first });
      return out.write(text);
    }
    const lines = renderFrame(snapshot, { width: widthOf(term, Boolean(term.stdout.isTTY)), color });
    out.write(`${first ? '' : '\n'}${lines.join('\n')}\n`);
  };

  try {
    for (let frame = 0; !stop.signal.aborted; frame++) {
      try {
        last = await read();
        problem = undefined;
      } catch (err) {
        // Quitting while a read is in flight is no failure; neither is a node that stops
        // answering once the view is up on a terminal (it says so and tries again).
        if (stop.signal.aborted) break;
        if (!fullScreen || !last) throw err;
        problem = `no answer: ${(err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ')}`;
      }
      if (fullScreen && !screen) screen = openScreen(term, onInterrupt, redraw);
      if (last) print(last, frame === 0);
      if (limit !== undefined && frame + 1 >= limit) break;
      await pause(opts.interval, stop.signal);
    }
  } finally {
    screen?.close();
    out.signal.removeEventListener('abort', onInterrupt);
    stop.abort();
  }
  return undefined;
}
