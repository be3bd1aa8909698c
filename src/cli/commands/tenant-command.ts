/** Registers `mesh tenant create|list|delete` on the program (one line in program.ts). */
import { Option, type Command } from 'commander';
import { SLO_CLASSES } from '../../control/model/names.ts';
import type { Run } from '../runner.ts';
import { createTenant, deleteTenant, listTenants, type CreateTenantOptions } from './tenant.ts';

export function registerTenantCommand(program: Command, run: Run): void {
  const tenant = program.command('tenant').description('tenants, which quotas and SLO defaults apply to');
  tenant
    .command('create')
    .description('create a tenant')
    .argument('<id>', 'lower-case letters, digits, "-" and "_"; what requests send in x-mesh-tenant')
    .option('--display-name <text>', 'a name for people')
    .addOption(
      new Option(
        '--default-slo-class <class>',
        'class of its requests that name none (default latency)',
      ).choices(SLO_CLASSES),
    )
    .action((id: string, opts: CreateTenantOptions, cmd: Command) =>
      run<CreateTenantOptions>((c, o) => createTenant(c, id, o))(opts, cmd),
    );
  tenant
    .command('list')
    .description('list the tenants')
    .action(run<object>((c) => listTenants(c)));
  tenant
    .command('delete')
    .description('delete a tenant and its quota policies')
    .argument('<id>', 'tenant id')
    .action((id: string, opts: object, cmd: Command) => run<object>((c) => deleteTenant(c, id))(opts, cmd));
}
