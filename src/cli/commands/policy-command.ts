/** Registers `mesh policy set|get|delete|list` on the program (one line in program.ts). */
import { Option, type Command } from 'commander';
import { collect, parseRevision, type Run } from '../runner.ts';
import { draftPolicy, type SetPolicyOptions } from './policy-input.ts';
import { setPolicy } from './policy-set.ts';
import { deletePolicy, getPolicy, listPolicies, POLICY_TYPES, type ListPoliciesOptions } from './policy.ts';

export function registerPolicyCommand(program: Command, run: Run): void {
  const policy = program
    .command('policy')
    .description('policies of the control store (SLO classes, quotas, placements): set, get, delete, list');
  policy
    .command('set')
    .description('create or replace a policy; the meshd lists every problem of a bad one')
    .argument('[name]', 'policy name (optional when the file names it)')
    .addOption(new Option('-t, --type <type>', 'policy type').choices(POLICY_TYPES))
    .addOption(new Option('--spec <json>', 'the spec, a JSON object').conflicts('file'))
    .option('-f, --file <path>', 'a .json or .yaml file holding the spec, or the whole policy')
    .option('-m, --model <model>', 'target model (repeatable; none: every model)', collect)
    .option('-n, --node <id>', 'target node (repeatable; none: every node)', collect)
    .option('--expected-revision <rev>', 'write only if the stored policy is at this revision', parseRevision)
    .action((name: string | undefined, opts: SetPolicyOptions, cmd: Command) =>
      run<SetPolicyOptions>((c, o) => setPolicy(c, draftPolicy(name, o), o.expectedRevision))(opts, cmd),
    );
  policy
    .command('get')
    .description('show one policy')
    .argument('<name>', 'policy name')
    .action((name: string, opts: object, cmd: Command) => run<object>((c) => getPolicy(c, name))(opts, cmd));
  policy
    .command('delete')
    .description('delete one policy')
    .argument('<name>', 'policy name')
    .action((name: string, opts: object, cmd: Command) =>
      run<object>((c) => deletePolicy(c, name))(opts, cmd),
    );
  policy
    .command('list')
    .description('list the policies, sorted by name')
    .addOption(new Option('-t, --type <type>', 'only policies of this type').choices(POLICY_TYPES))
    .option('-w, --watch', 'print the list again whenever a policy changes (until Ctrl-C)')
    .action(run<ListPoliciesOptions>(listPolicies));
}
