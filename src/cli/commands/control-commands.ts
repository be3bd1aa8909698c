/**
 * Registers the top-level commands over the control store on the program (one line in
 * program.ts): drain, undrain, pin, unpin, placements, events.
 */
import { Option, type Command } from 'commander';
import { collect, parseRevision, type Run } from '../runner.ts';
import { drainNode, undrainNode, type DrainOptions } from './drain.ts';
import { events, parseEventType, type EventsOptions } from './events.ts';
import { parseReplicas, PIN_MODES, pinModel, unpinModel, type PinOptions, type UnpinOptions } from './pin.ts';
import { placements, type PlacementsOptions } from './placements.ts';

export function registerControlCommands(program: Command, run: Run): void {
  program
    .command('drain')
    .description('stop routing new requests to a node; in-flight ones finish (or, with --force, are cut)')
    .argument('<node>', 'node id')
    .option('--force', 'cut the in-flight requests too')
    .action((node: string, opts: DrainOptions, cmd: Command) =>
      run<DrainOptions>((c, o) => drainNode(c, node, o))(opts, cmd),
    );
  program
    .command('undrain')
    .description('end the drain of a node: it takes requests again')
    .argument('<node>', 'node id')
    .action((node: string, opts: object, cmd: Command) =>
      run<object>((c) => undrainNode(c, node))(opts, cmd),
    );
  program
    .command('pin')
    .description('pin a model to nodes: they keep it loaded and routing prefers (or requires) them')
    .argument('<model>', 'model name')
    .requiredOption('-n, --node <id>', 'node to pin it to (repeatable; added to an existing pin)', collect)
    .option('--min-replicas <k>', 'how many of the pinned nodes keep it loaded (default: all)', parseReplicas)
    .addOption(
      new Option('--mode <mode>', 'prefer: pinned nodes first; require: only them').choices(PIN_MODES),
    )
    .option('--source <path-or-url>', 'where the runtime loads it from (as load-model --source)')
    .option('--endpoint-name <name>', 'runtime endpoint on each node (as load-model --endpoint-name)')
    .option('--revision <rev>', 'model revision')
    .action((model: string, opts: PinOptions, cmd: Command) =>
      run<PinOptions>((c, o) => pinModel(c, model, o))(opts, cmd),
    );
  program
    .command('unpin')
    .description('remove nodes from the pin of a model, or the whole pin')
    .argument('<model>', 'model name')
    .option('-n, --node <id>', 'node to remove (repeatable; none: the whole pin)', collect)
    .action((model: string, opts: UnpinOptions, cmd: Command) =>
      run<UnpinOptions>((c, o) => unpinModel(c, model, o))(opts, cmd),
    );
  program
    .command('placements')
    .description('every pin, the nodes that serve its model now, and whether enough do (ok, degraded)')
    .option('-w, --watch', 'print the list again when pins or loaded models change (until Ctrl-C)')
    .action(run<PlacementsOptions>(placements));
  program
    .command('events')
    .description('events of the control store (drains, policies, tenants, ...), oldest first')
    .option('-f, --follow', 'keep printing new events as they happen (until Ctrl-C)')
    .option('--since <rev>', 'only events after this revision', parseRevision)
    .option('-t, --type <type>', 'only events of this type, e.g. node_draining (repeatable)', parseEventType)
    .action(run<EventsOptions>(events));
}
