/**
 * The `mesh` admin CLI: global `--endpoint`, `-o table|json|yaml` and `--timeout`, and one
 * subcommand per file under commands/. `runCli` takes its streams and environment as arguments,
 * so tests run it in-process as well as as a real process.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { NODE_ROLES } from '../core/types.ts';
import { MESH_VERSION } from '../core/version.ts';
import { createMeshClients, type MeshClients } from './client.ts';
import { registerControlCommands } from './commands/control-commands.ts';
import { listModels } from './commands/list-models.ts';
import {
  loadModel,
  parseConfigPair,
  unloadModel,
  type LoadModelOptions,
  type UnloadModelOptions,
} from './commands/load-model.ts';
import { listNodes, NODE_STATUSES, type ListNodesOptions } from './commands/list-nodes.ts';
import { listMembers } from './commands/members.ts';
import { registerApiKeyCommands } from './commands/apikey-command.ts';
import { registerTopCommand } from './commands/top-command.ts';
import { registerPkiCommands } from './commands/pki-command.ts';
import { registerPolicyCommand } from './commands/policy-command.ts';
import { registerQuarantineCommand } from './commands/quarantine-command.ts';
import { registerQuotaCommand } from './commands/quota-command.ts';
import { stats } from './commands/stats.ts';
import { registerTenantCommand } from './commands/tenant-command.ts';
import { formatError } from './errors.ts';
import { createFreshness } from './freshness.ts';
import { formatResult, formatUpdate, OUTPUT_FORMATS, useColor, type OutputFormat } from './output.ts';
import { UsageError, type CommandFn, type CommandOutput, type CommandResult, type Run } from './runner.ts';

/** Where the CLI looks without `--endpoint` or `MESH_ENDPOINT`: meshd's default API port. */
const DEFAULT_ENDPOINT = 'http://127.0.0.1:50051';
/** Deadline of each call without `--timeout`. */
const DEFAULT_TIMEOUT_MS = 5000;
/** Deadline of load-model / unload-model without `--timeout`: loading weights takes a while. */
const DEFAULT_LOAD_TIMEOUT_MS = 120_000;
/** Exit status for a wrong command line (1 is for failures of the command itself). */
const EXIT_USAGE = 2;

/** The process's streams and environment, injectable for in-process tests. */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  /** Aborted to end a long-running command (`--watch`, `events --follow`): Ctrl-C in main.ts. */
  signal?: AbortSignal;
}

interface GlobalOptions {
  endpoint: string;
  output: OutputFormat;
  timeout: number;
  token?: string;
  cert?: string;
  key?: string;
  ca?: string;
}

function parseTimeout(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms <= 0)
    throw new InvalidArgumentError('expected a positive number of milliseconds');
  return ms;
}

function parseEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected a URL such as http://127.0.0.1:50051');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError('expected an http:// or https:// URL');
  return value.replace(/\/+$/, '');
}

/** Runs one CLI invocation (`args` without `node` and the script); resolves to the exit status. */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const program = new Command('mesh');
  let globals: GlobalOptions | undefined;

  // Shared by every command: make clients from the global options, print the result.
  const run: Run =
    <O>(fn: CommandFn<O>) =>
    async (opts: O, cmd: Command) => {
      globals = cmd.optsWithGlobals<GlobalOptions & O>();
      const freshness = createFreshness(io.stderr);
      const clients = createMeshClients(globals.endpoint, globals.timeout, freshness.onHeader, {
        token: globals.token,
        certFile: globals.cert,
        keyFile: globals.key,
        caFile: globals.ca,
      });
      const format = globals.output;
      const color = useColor(io.env, io.stdout.isTTY);
      let renders = 0;
      const out: CommandOutput = {
        format,
        signal: io.signal ?? new AbortController().signal,
        revision: freshness.revision,
        render: ({ data, view }) =>
          io.stdout.write(
            formatUpdate(data, view, format, {
              color,
              tty: Boolean(io.stdout.isTTY),
              first: renders++ === 0,
            }),
          ),
        write: (text) => io.stdout.write(text),
      };
      const result = await fn(clients, opts, out);
      if (result) io.stdout.write(formatResult(result.data, result.view, format, color));
    };
  // Commands with a MODEL argument and a longer default deadline (unless --timeout is given).
  const runOnModel =
    <O>(fn: (clients: MeshClients, model: string, opts: O) => Promise<CommandResult>) =>
    (model: string, opts: O, cmd: Command) => {
      const timeoutDefaulted = program.getOptionValueSource('timeout') === 'default';
      return run<O>((clients, o) =>
        fn(
          timeoutDefaulted ? { ...clients, callOptions: { timeoutMs: DEFAULT_LOAD_TIMEOUT_MS } } : clients,
          model,
          o,
        ),
      )(opts, cmd);
    };

  program
    .description(
      'Admin CLI of InferMesh: inspect the nodes, models and live state of a mesh; drain, pin, set policies',
    )
    .version(MESH_VERSION)
    .addOption(
      new Option('-e, --endpoint <url>', 'meshd API URL (env MESH_ENDPOINT)')
        .default(io.env.MESH_ENDPOINT || DEFAULT_ENDPOINT)
        .argParser(parseEndpoint),
    )
    .addOption(
      new Option('--token <jwt>', 'bearer token sent on every call (env MESH_TOKEN)').default(
        io.env.MESH_TOKEN || undefined,
        '$MESH_TOKEN',
      ),
    )
    .addOption(
      new Option(
        '--cert <file>',
        'client certificate (PEM) for an https:// endpoint (env MESH_CERT)',
      ).default(io.env.MESH_CERT || undefined),
    )
    .addOption(
      new Option('--key <file>', 'private key of --cert (PEM) (env MESH_KEY)').default(
        io.env.MESH_KEY || undefined,
      ),
    )
    .addOption(
      new Option('--ca <file>', 'CA bundle to trust for an https:// endpoint (env MESH_CA)').default(
        io.env.MESH_CA || undefined,
      ),
    )
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .addOption(
      new Option('--timeout <ms>', 'deadline of each call')
        .default(DEFAULT_TIMEOUT_MS)
        .argParser(parseTimeout),
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // One line with a code, like every other error: `mesh: error: usage: unknown command 'x'`.
      outputError: (text, write) =>
        write(
          `mesh: error: usage: ${text
            .replace(/^error: /, '')
            .trim()
            .replace(/\s*\n\s*/g, ' ')} (see mesh --help)\n`,
        ),
    });

  program
    .command('list-nodes')
    .description('list the nodes of the mesh')
    .addOption(new Option('-r, --role <role>', 'only nodes with this role').choices(NODE_ROLES))
    .addOption(new Option('-s, --status <status>', 'only nodes with this status').choices(NODE_STATUSES))
    .action(run<ListNodesOptions>(listNodes));
  program
    .command('members')
    .description('list the gossip members: state (alive, suspect, dead, left), roles, zone, address')
    .action(run<object>((clients) => listMembers(clients)));
  program
    .command('list-models')
    .description('list the models served in the mesh')
    .action(run<object>((clients) => listModels(clients)));
  program
    .command('stats')
    .description('live load per model: endpoints, healthy, queue, running, mean KV cache use')
    .action(run<object>((clients) => stats(clients)));
  program
    .command('load-model')
    .description("load a model (or LoRA adapter) through the runtime API of a node's endpoint")
    .argument('<model>', 'name the runtime will serve it under')
    .requiredOption('-n, --node <id>', 'target node (the meshd forwards to it)')
    .option(
      '--endpoint-name <name>',
      'runtime endpoint on the node (gpu.runtimes[].name); optional when only one fits',
    )
    .option('--source <path-or-url>', 'where the runtime finds the weights or adapter')
    .option('--base-model <model>', 'for a LoRA adapter: the base model it attaches to')
    .option('--config <key=value>', 'runtime-specific setting (repeatable)', parseConfigPair)
    .action(runOnModel<LoadModelOptions>(loadModel));
  program
    .command('unload-model')
    .description("unload a model (or LoRA adapter) through the runtime API of a node's endpoint")
    .argument('<model>', 'the model or adapter name')
    .requiredOption('-n, --node <id>', 'target node (the meshd forwards to it)')
    .option('--endpoint-name <name>', 'runtime endpoint on the node; optional when only one serves the model')
    .action(runOnModel<UnloadModelOptions>(unloadModel));
  registerQuarantineCommand(program, run);
  registerControlCommands(program, run);
  registerPolicyCommand(program, run);
  registerTenantCommand(program, run);
  registerQuotaCommand(program, run);
  registerPkiCommands(program, run);
  registerApiKeyCommands(program, run);
  registerTopCommand(program, run);

  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    if (err instanceof UsageError) {
      io.stderr.write(`mesh: error: usage: ${err.message} (see mesh --help)\n`);
      return EXIT_USAGE;
    }
    const ctx = {
      endpoint: globals?.endpoint ?? DEFAULT_ENDPOINT,
      timeoutMs: globals?.timeout ?? DEFAULT_TIMEOUT_MS,
    };
    io.stderr.write(formatError(err, ctx));
    return 1;
  }
}
