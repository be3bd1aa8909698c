/** Entry point of `mesh` (bin/mesh.js imports this module, which runs the CLI at import). */
import { runCli } from './program.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
