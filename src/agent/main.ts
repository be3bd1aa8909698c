/**
 * `meshd`: the daemon's command line. `start` runs the node until SIGINT/SIGTERM, `validate` lists
 * every problem in a config file, `config` prints the full default config.
 */
import { Command } from 'commander';
import { defaultConfig } from '../core/config.ts';
import { MeshError } from '../core/errors.ts';
import { MESH_VERSION } from '../core/version.ts';
import { createLogger } from '../observability/log.ts';
import {
  checkConfigText,
  configToYaml,
  formatProblems,
  loadConfigFile,
  readConfigText,
} from './config-file.ts';
import { registerGpusCommand } from './gpus-command.ts';
import { startMeshd } from './meshd.ts';
import { registerProbeCommand } from './probe-command.ts';

const program = new Command('meshd')
  .description('InferMesh node daemon')
  .version(MESH_VERSION, '-V, --version', 'print the version')
  .showHelpAfterError();

program
  .command('start')
  .description('run this node with the roles its config names')
  .option('-c, --config <file>', 'YAML config file (defaults apply to every key it omits)')
  .action(async (opts: { config?: string }) => {
    const config = opts.config ? await loadConfigFile(opts.config) : defaultConfig();
    const logger = createLogger(config.log.level, { node: config.node.id });
    const node = await startMeshd(config, logger);
    const workers = node.routerWorkers === 1 ? '1 worker' : `${node.routerWorkers} workers`;
    const lines = [
      `meshd ${config.node.id} is up (roles: ${config.node.roles.join(', ')})`,
      node.routerUrl ? `  router (OpenAI API): ${node.routerUrl}/v1  (${workers})` : undefined,
      `  control API (gRPC + Connect JSON): ${node.apiUrl}`,
      `  metrics: ${node.metricsUrl}/metrics`,
      `  dashboard: ${node.dashboardUrl}`,
      node.gossipAddress ? `  gossip (SWIM, UDP+TCP): ${node.gossipAddress}` : undefined,
      ...node.simulatorUrls.map((s) => `  simulator ${s.name}: ${s.url}`),
      `Ctrl-C drains it (requests in flight get up to ${config.router.drainTimeoutMs / 1000} s), then stops; a second Ctrl-C stops at once.`,
    ];
    process.stdout.write(lines.filter(Boolean).join('\n') + '\n');
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting without waiting for the drain');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal, drainTimeoutMs: config.router.drainTimeoutMs }, 'draining, then stopping');
      node.shutdown().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'stop failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });

program
  .command('validate')
  .description('check a config file and list every problem with its path')
  .requiredOption('-c, --config <file>', 'YAML config file')
  .action(async (opts: { config: string }) => {
    const result = checkConfigText(await readConfigText(opts.config));
    if (result.ok) {
      process.stdout.write(`${opts.config}: valid\n`);
      return;
    }
    process.stderr.write(formatProblems(opts.config, result.problems) + '\n');
    process.exitCode = 1;
  });

program
  .command('config')
  .description('print the full default config')
  .action(() => {
    process.stdout.write(configToYaml(defaultConfig()));
  });

registerProbeCommand(program);

registerGpusCommand(program, () => defaultConfig().node.id);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const error = MeshError.from(err);
  process.stderr.write(`meshd: ${error.code}: ${error.message}\n`);
  process.exit(1);
}
