/** Registers `mesh quarantine list|release UUID` on the program (one line in program.ts). */
import type { Command } from 'commander';
import type { Run } from '../runner.ts';
import { listQuarantined, releaseGpu } from './quarantine.ts';

export function registerQuarantineCommand(program: Command, run: Run): void {
  const quarantine = program
    .command('quarantine')
    .description('GPUs taken out of service by the health policy: list them, release one');
  quarantine
    .command('list')
    .description('list the quarantined GPUs of the node, with reason and time')
    .action(run<object>((clients) => listQuarantined(clients)));
  quarantine
    .command('release')
    .description('put a quarantined GPU back into service')
    .argument('<uuid>', 'GPU or MIG UUID (see `mesh quarantine list`)')
    .action((uuid: string, opts: object, cmd: Command) => run<object>((c) => releaseGpu(c, uuid))(opts, cmd));
}
