/** Registers `mesh apikey create|list|revoke` on the program (one line in program.ts). */
import type { Command } from 'commander';
import type { Run } from '../runner.ts';
import {
  createApiKey,
  listApiKeys,
  revokeApiKey,
  type CreateApiKeyOptions,
  type ListApiKeysOptions,
} from './apikey.ts';

export function registerApiKeyCommands(program: Command, run: Run): void {
  const apikey = program
    .command('apikey')
    .description("tenants' API keys for inference requests (Authorization: Bearer)");
  apikey
    .command('create')
    .description('create an API key for a tenant; prints the key once (it cannot be shown again)')
    .requiredOption('-t, --tenant <id>', 'the tenant whose requests the key makes (must exist)')
    .option('--name <text>', 'a name for people: where the key is used')
    .action(run<CreateApiKeyOptions>((c, o) => createApiKey(c, o)));
  apikey
    .command('list')
    .description('list API keys: ids, tenants, names (never the keys themselves)')
    .option('-t, --tenant <id>', "only this tenant's keys")
    .action(run<ListApiKeysOptions>((c, o) => listApiKeys(c, o)));
  apikey
    .command('revoke')
    .description('revoke an API key: routers refuse it as soon as they see the change')
    .argument('<key-id>', 'the key id (`mesh apikey list`; the part after im_ in the key)')
    .action((id: string, opts: object, cmd: Command) => run<object>((c) => revokeApiKey(c, id))(opts, cmd));
}
