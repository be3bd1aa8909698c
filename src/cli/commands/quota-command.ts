/** Registers `mesh quota set|list|delete` on the program (one line in program.ts). */
import { InvalidArgumentError, type Command } from 'commander';
import type { Run } from '../runner.ts';
import { deleteQuota, listQuotas, setQuota, type ListQuotasOptions, type SetQuotaOptions } from './quota.ts';

/** Commander parser of a budget: a positive number. */
export function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function registerQuotaCommand(program: Command, run: Run): void {
  const quota = program
    .command('quota')
    .description("tenants' request and token budgets (QUOTA policies named quota.<tenant>.<model|all>)");
  quota
    .command('set')
    .description('set the budget of a tenant on one model, or on all its models together')
    .argument('<tenant>', 'tenant id (see mesh tenant list)')
    .option('-m, --model <model>', 'the model it limits (default: all models together)')
    .option('--rps <n>', 'requests per second', parsePositive)
    .option('--tpm <n>', 'tokens per minute', parsePositive)
    .option(
      '--burst-requests <n>',
      'requests allowed at once after a quiet spell (default: one second)',
      parsePositive,
    )
    .option(
      '--burst-tokens <n>',
      'tokens allowed at once after a quiet spell (default: one minute)',
      parsePositive,
    )
    .action((tenant: string, opts: SetQuotaOptions, cmd: Command) =>
      run<SetQuotaOptions>((c, o) => setQuota(c, tenant, o))(opts, cmd),
    );
  quota
    .command('list')
    .description('list the quotas')
    .option('--tenant <id>', 'only the quotas of this tenant')
    .option('-w, --watch', 'print the list again whenever a quota changes (until Ctrl-C)')
    .action(run<ListQuotasOptions>(listQuotas));
  quota
    .command('delete')
    .description('delete the quota of a tenant on one model (or on all models)')
    .argument('<tenant>', 'tenant id')
    .option('-m, --model <model>', 'the model of the quota (default: the all-models quota)')
    .action((tenant: string, opts: { model?: string }, cmd: Command) =>
      run<{ model?: string }>((c, o) => deleteQuota(c, tenant, o.model))(opts, cmd),
    );
}
