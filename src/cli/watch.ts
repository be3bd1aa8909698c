/**
 * `--watch` of the list commands: print the list, then print it again whenever the control store
 * records an event that can change it. Driven by SubscribeEvents (follow, only the relevant types,
 * from the revision the first answer reflected) rather than polling, so a change shows at once
 * and an idle mesh costs nothing; `pollMs` adds a timer for lists that also show live state that
 * records no event (the nodes serving a pinned model). A rendering equal to the previous one is
 * skipped, so the timer and unrelated events print nothing. Ends on Ctrl-C.
 */
import { eventTypeToProto } from '../control/records-proto.ts';
import type { EventType } from '../control/model/names.ts';
import type { MeshClients } from './client.ts';
import { followOptions, type CommandOutput, type CommandResult } from './runner.ts';

/** Event types and optional timer that make a watched list re-render. */
export interface WatchSpec {
  types: readonly EventType[];
  pollMs?: number;
}

/** Renders `list()` now and after every relevant event until `out.signal` aborts. */
export async function watchList(
  clients: MeshClients,
  out: CommandOutput,
  spec: WatchSpec,
  list: () => Promise<CommandResult>,
): Promise<undefined> {
  let last = '';
  const render = (result: CommandResult) => {
    const text = JSON.stringify(result.data);
    if (text === last) return;
    last = text;
    out.render(result);
  };
  render(await list());
  const stop = new AbortController();
  const onInterrupt = () => stop.abort();
  out.signal.addEventListener('abort', onInterrupt, { once: true });
  let failure: Error | undefined;
  // One re-render at a time; events during one coalesce into the next.
  let dirty = false;
  let rendering: Promise<void> = Promise.resolve();
  const refresh = () => {
    if (dirty) return;
    dirty = true;
    rendering = rendering.then(async () => {
      dirty = false;
      if (stop.signal.aborted) return;
      try {
        render(await list());
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err));
        stop.abort();
      }
    });
  };
  const timer = spec.pollMs ? setInterval(refresh, spec.pollMs) : undefined;
  try {
    const events = clients.control.subscribeEvents(
      { types: spec.types.map(eventTypeToProto), sinceRevision: BigInt(out.revision() ?? 0), follow: true },
      followOptions(clients, stop.signal),
    );
    for await (const _event of events) refresh();
  } catch (err) {
    if (!stop.signal.aborted) throw err;
  } finally {
    clearInterval(timer);
    out.signal.removeEventListener('abort', onInterrupt);
    stop.abort();
  }
  await rendering;
  if (failure !== undefined) throw failure;
  return undefined;
}
