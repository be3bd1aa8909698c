/** Registers `mesh top` on the program (one line in program.ts). */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Run } from '../runner.ts';
import { top, type TopOptions } from './top.ts';

/** Default refresh: fresh enough to watch a queue build, slow enough to read the numbers. */
const DEFAULT_INTERVAL_MS = 2000;
/** Below this a refresh costs the node more than an operator can read. */
const MIN_INTERVAL_MS = 100;

function parseInterval(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < MIN_INTERVAL_MS)
    throw new InvalidArgumentError(`expected a whole number of milliseconds, at least ${MIN_INTERVAL_MS}`);
  return ms;
}

function parseFrames(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

function parseUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // reported below
  }
  throw new InvalidArgumentError('expected an http:// URL such as http://127.0.0.1:9090/metrics');
}

/** `mesh top [--once] [--interval MS] [--frames N] [--metrics-url URL]`. */
export function registerTopCommand(program: Command, run: Run): void {
  program
    .command('top')
    .description('live fleet view: nodes, GPUs and endpoints, refreshed until q or Ctrl-C')
    .option('--once', 'print one frame and exit (with -o json|yaml: the raw snapshot)')
    .addOption(
      new Option('--interval <ms>', 'time between refreshes')
        .default(DEFAULT_INTERVAL_MS)
        .argParser(parseInterval),
    )
    .addOption(new Option('--frames <n>', 'exit by itself after N frames').argParser(parseFrames))
    .addOption(
      new Option(
        '--metrics-url <url>',
        "the node's metrics URL: adds the in-flight requests of its router per endpoint",
      ).argParser(parseUrl),
    )
    .action((opts: TopOptions, cmd: Command) => {
      const globals = cmd.optsWithGlobals<{ endpoint: string; timeout: number }>();
      const ctx = { endpoint: globals.endpoint, timeoutMs: globals.timeout };
      return run<TopOptions>((clients, o, out) => top(clients, o, out, ctx))(opts, cmd);
    });
}
