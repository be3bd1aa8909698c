/**
 * The contract between program.ts and the command files: a command gets typed clients, its
 * options and an output, and returns what to print (or prints itself, when it prints more than
 * once: `--watch`, `events --follow`).
 */
import type { CallOptions } from '@connectrpc/connect';
import { InvalidArgumentError, type Command } from 'commander';
import type { MeshClients } from './client.ts';
import type { OutputFormat, TableView } from './output.ts';

/** What one command prints: the data of `-o json|yaml`, and its table view. */
export interface CommandResult {
  data: unknown;
  view: TableView;
}

/** The printing side of a command that prints more than once. */
export interface CommandOutput {
  format: OutputFormat;
  /** Aborted on Ctrl-C: a long-running command stops there and exits 0. */
  signal: AbortSignal;
  /** The control-store revision the last read answer reflected (`mesh-revision`), if any. */
  revision(): number | undefined;
  /** Prints one rendering of a watched result (see formatUpdate). */
  render(result: CommandResult): void;
  /** Writes text to stdout as it is. */
  write(text: string): void;
}

/** A command: returns its result, or undefined when it printed through `out` itself. */
export type CommandFn<O> = (
  clients: MeshClients,
  opts: O,
  out: CommandOutput,
) => Promise<CommandResult | undefined>;

/** program.ts's shared runner: makes clients from the global options and prints the result. */
export type Run = <O>(fn: CommandFn<O>) => (opts: O, cmd: Command) => Promise<void>;

/**
 * Options of a call that stays open until Ctrl-C: no `--timeout` deadline (it would cut the
 * stream), the freshness callback kept.
 */
export function followOptions(clients: MeshClients, signal: AbortSignal): CallOptions {
  const { timeoutMs: _deadline, ...rest } = clients.callOptions;
  return { ...rest, signal };
}

/** Commander parser of a control-store revision (`--expected-revision`, `--since`). */
export function parseRevision(value: string): bigint {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a revision (a whole number)');
  return BigInt(value);
}

/** Commander parser of a repeatable option: collects its values in order. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/**
 * A wrong command line found by a command itself (bad `--spec` JSON, a missing `--type`): printed
 * like commander's own usage errors, exit status 2.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
