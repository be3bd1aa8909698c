/**
 * The dashboard's entry: one EventSource on `/ui/stream` feeds every view. `hello` (the whole
 * picture: fleet, the charts' history, the last decisions and events) redraws everything — also
 * after a reconnect; `fleet` (every second) redraws the tables and adds a chart point;
 * `decisions` and `control` update the explorer and the event feed.
 */
import type { DecisionRecord } from '../src/core/decision-record.ts';
import type {
  ControlEventRow,
  FleetSnapshot,
  StreamFleet,
  StreamHello,
} from '../src/observability/fleet-view/types.ts';
import { byId } from './dom.ts';
import { createCharts } from './views/charts.ts';
import { createDecisionsView } from './views/decisions.ts';
import { createEventsView } from './views/events.ts';
import { renderEndpoints, renderGpus, renderNodes, renderTotals } from './views/fleet-tables.ts';

const charts = createCharts();
const decisions = createDecisionsView();
const events = createEventsView();
const link = byId('link');

function renderFleet(fleet: FleetSnapshot): void {
  renderTotals(fleet);
  renderEndpoints(fleet);
  renderGpus(fleet);
  renderNodes(fleet);
  document.body.dataset.updated = String(fleet.at);
}

function setLink(state: 'live' | 'connecting' | 'closed', text: string): void {
  link.dataset.state = state;
  link.textContent = text;
}

const stream = new EventSource('/ui/stream');
const data = <T>(ev: Event) => JSON.parse((ev as MessageEvent<string>).data) as T;

stream.addEventListener('hello', (ev) => {
  const hello = data<StreamHello>(ev);
  byId('node').textContent = `node ${hello.node} · ${hello.version}`;
  renderFleet(hello.fleet);
  charts.reset(hello.series);
  decisions.reset(hello.decisions);
  events.reset(hello.events);
  setLink('live', 'live');
});
stream.addEventListener('fleet', (ev) => {
  const update = data<StreamFleet>(ev);
  renderFleet(update.fleet);
  charts.push(update.point);
});
stream.addEventListener('decisions', (ev) => decisions.update(data<DecisionRecord[]>(ev)));
stream.addEventListener('control', (ev) => events.add(data<ControlEventRow>(ev)));
stream.addEventListener('error', () => {
  // The browser reconnects by itself after a network error; a refusal (401) closes the stream.
  if (stream.readyState === EventSource.CLOSED) setLink('closed', 'disconnected: reload to sign in again');
  else setLink('connecting', 'reconnecting…');
});
