/**
 * `mesh events [--follow] [--since REV] [--type T ...]`: what the control store recorded (drains,
 * policies, tenants, ...), oldest first. Without `--follow` the stored events print as one result;
 * with it each event prints as it comes, one line each, until Ctrl-C.
 */
import { InvalidArgumentError } from 'commander';
import { stringify as toYaml } from 'yaml';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { EVENT_TYPES, type EventType } from '../../control/model/names.ts';
import { eventTypeFromProto, eventTypeToProto } from '../../control/records-proto.ts';
import type { Event } from '../../gen/infermesh/control/v1/control_pb.js';
import type { MeshClients } from '../client.ts';
import { isoOrNull, type OutputFormat, type TableView } from '../output.ts';
import { followOptions, type CommandOutput, type CommandResult } from '../runner.ts';

/** Options of `mesh events`. */
export interface EventsOptions {
  follow?: boolean;
  /** Only events recorded after this revision. */
  since?: bigint;
  type?: EventType[];
}

/** One event in `-o json|yaml` output. */
export interface EventRow {
  /** The store revision that recorded it: resume with `--since` this. */
  revision: number;
  type: string;
  time: string | null;
  source: string;
  data: Record<string, string>;
}

/** Commander parser of a repeatable `--type`, checked against the event types. */
export function parseEventType(value: string, previous: EventType[] = []): EventType[] {
  const type = EVENT_TYPES.find((t) => t === value);
  if (!type) throw new InvalidArgumentError(`expected one of ${EVENT_TYPES.join(', ')}`);
  return [...previous, type];
}

const row = (e: Event): EventRow => ({
  revision: Number(e.revision),
  type: eventTypeFromProto(e.type) ?? `unknown(${e.type})`,
  time: isoOrNull(e.timestamp ? timestampMs(e.timestamp) : 0),
  source: e.sourceNode,
  data: e.data,
});

const HEAD = ['REVISION', 'TIME', 'TYPE', 'SOURCE', 'DATA'];
const dataText = (data: Record<string, string>): string =>
  Object.keys(data)
    .sort()
    .map((k) => `${k}=${data[k]}`)
    .join(' ') || '-';
const cells = (e: EventRow): string[] => [
  String(e.revision),
  e.time ?? '-',
  e.type,
  e.source || '-',
  dataText(e.data),
];

// A followed stream cannot size its columns from rows to come: fixed widths that fit a revision
// of 8 digits, an ISO time and the longest type; a longer cell just pushes the line on.
const WIDTHS = [8, 24, 15, 12];
const line = (cols: string[]): string =>
  cols.map((c, i) => (i < WIDTHS.length ? c.padEnd(WIDTHS[i] ?? 0) : c)).join('  ');

/** One followed event as its format prints it (newline included). */
export function formatEventLine(e: EventRow, format: OutputFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(e)}\n`;
    case 'yaml':
      return `---\n${toYaml(e)}`;
    case 'table':
      return `${line(cells(e))}\n`;
  }
}

/** Streams ControlPlane.SubscribeEvents: stored events, then (with `--follow`) new ones. */
export async function events(
  clients: MeshClients,
  opts: EventsOptions,
  out: CommandOutput,
): Promise<CommandResult | undefined> {
  const req = {
    types: (opts.type ?? []).map(eventTypeToProto),
    sinceRevision: opts.since ?? 0n,
    follow: Boolean(opts.follow),
  };
  if (!opts.follow) {
    const rows: EventRow[] = [];
    for await (const e of clients.control.subscribeEvents(req, clients.callOptions)) rows.push(row(e));
    const view: TableView = { head: HEAD, rows: rows.map(cells) };
    return { data: { events: rows }, view };
  }
  if (out.format === 'table') out.write(`${line(HEAD)}\n`);
  try {
    for await (const e of clients.control.subscribeEvents(req, followOptions(clients, out.signal)))
      out.write(formatEventLine(row(e), out.format));
  } catch (err) {
    if (!out.signal.aborted) throw err;
  }
  return undefined;
}
