/**
 * For a benchmark's child process: stop (run `close`, then exit) on SIGINT or SIGTERM, or when the
 * parent goes away. The parent holds the child's stdin open, so EOF means it is gone, even after
 * a SIGKILL that left it no time to signal.
 */
export function stopWithParent(close: () => Promise<unknown>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
