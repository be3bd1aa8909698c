/** Entry point of `mesh` (bin/mesh.js imports this module, which runs the CLI at import). */
import { runCli } from './program.ts';

// Ctrl-C ends `--watch` and `events --follow` cleanly (exit 0); a command stuck in a plain call
// still exits soon after, and a second Ctrl-C kills at once (the handlers are `once`).
const interrupt = new AbortController();
const onSignal = () => {
  interrupt.abort();
  setTimeout(() => process.exit(130), 2000).unref();
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: interrupt.signal,
});
