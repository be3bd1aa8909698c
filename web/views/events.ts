/** The control plane's event feed (drains, pins, quarantines, nodes joining), newest first. */
import type { ControlEventRow } from '../../src/observability/fleet-view/types.ts';
import { byId, fill, h } from '../dom.ts';
import { time } from '../format.ts';

const MAX_EVENTS = 100;

export interface EventsView {
  reset(events: readonly ControlEventRow[]): void;
  add(event: ControlEventRow): void;
}

export function createEventsView(): EventsView {
  let events: ControlEventRow[] = [];
  const list = byId('events');
  const render = () =>
    fill(
      list,
      ...(events.length === 0 ? [h('li', { class: 'muted' }, 'No events yet.')] : []),
      ...[...events].reverse().map((e) =>
        h(
          'li',
          { 'data-type': e.type },
          h('span', { class: 'muted num' }, time(e.at)),
          ' ',
          h('b', {}, e.type),
          ' ',
          h(
            'span',
            { class: 'small' },
            Object.entries(e.data)
              .map(([k, v]) => `${k}=${v}`)
              .join(' '),
          ),
          h('span', { class: 'muted small' }, ` · ${e.source}`),
        ),
      ),
    );
  return {
    reset(all) {
      events = all.slice(-MAX_EVENTS);
      render();
    },
    add(event) {
      if (events.some((e) => e.revision === event.revision)) return;
      events.push(event);
      if (events.length > MAX_EVENTS) events.shift();
      render();
    },
  };
}
