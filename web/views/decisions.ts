/**
 * The decision explorer: the router's last decisions (newest first), each with its request, kind
 * (first pick, retry, hedge), the pick, the admission verdict and, once the attempt ended, its
 * outcome. A decision picked from the list shows its candidates with every scorer's score and
 * weight, the chosen one marked, and the other decisions of the same request (a retry, a hedge).
 */
import type { DecisionRecord } from '../../src/core/decision-record.ts';
import { byId, fill, h } from '../dom.ts';
import { dash, ms, time } from '../format.ts';

/** Rows listed (the server keeps its own ring; the browser keeps what it was sent). */
const MAX_ROWS = 300;

export interface DecisionsView {
  /** Replaces the list (a new stream). */
  reset(records: readonly DecisionRecord[]): void;
  /** Adds new decisions and updates those whose outcome arrived. */
  update(records: readonly DecisionRecord[]): void;
}

const kindBadge = (r: DecisionRecord) => h('span', { class: `badge kind-${r.kind}` }, r.kind);

function verdict(r: DecisionRecord): HTMLElement {
  if (r.error) return h('span', { class: 'badge bad' }, r.error);
  if (r.admission && !r.admission.admitted) return h('span', { class: 'badge bad' }, 'refused');
  return h('span', { class: 'badge ok' }, 'admitted');
}

function outcome(r: DecisionRecord): string {
  const o = r.outcome;
  if (!o) return r.error ? dash : 'running…';
  if (o.withdrawn) return 'lost the race';
  const parts = [o.status !== undefined ? String(o.status) : o.ok ? 'ok' : 'failed'];
  if (o.ttftMs !== undefined) parts.push(`TTFT ${ms(o.ttftMs)}`);
  if (o.outputTokens !== undefined) parts.push(`${o.outputTokens} tok`);
  return parts.join(' · ');
}

export function createDecisionsView(): DecisionsView {
  const byIdMap = new Map<string, DecisionRecord>();
  let order: string[] = [];
  let selected: string | undefined;
  const table = byId('decisions');
  const detail = byId('decision-detail');

  const rows = new Map<string, HTMLTableRowElement>();
  const tbody = h('tbody');
  fill(
    table,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['time', 'request', 'model', 'kind', 'pick', 'admission', 'outcome'].map((t) => h('th', {}, t)),
      ),
    ),
    tbody,
  );

  const select = (id: string) => {
    rows.get(selected ?? '')?.classList.remove('selected');
    selected = id;
    rows.get(id)?.classList.add('selected');
    renderDetail();
  };

  const rowOf = (r: DecisionRecord) =>
    h(
      'tr',
      {
        'data-decision': r.id,
        'data-request': r.requestId,
        class: r.id === selected ? 'selected' : '',
        click: () => select(r.id),
      },
      h('td', { class: 'num' }, time(r.at)),
      h('td', { class: 'id' }, r.requestId.slice(0, 12)),
      h('td', {}, r.model),
      h('td', {}, kindBadge(r)),
      h('td', { class: 'id' }, r.chosen ?? dash),
      h('td', {}, verdict(r)),
      h('td', { class: 'small' }, outcome(r)),
    );

  /** Rows are kept and replaced one by one (newest on top), so a row under the pointer stays put. */
  const renderRow = (r: DecisionRecord) => {
    const row = rowOf(r);
    const old = rows.get(r.id);
    if (old) old.replaceWith(row);
    else tbody.prepend(row);
    rows.set(r.id, row);
  };

  const note = () => {
    byId('decisions-note').textContent = order.length ? `last ${order.length}` : 'none yet: send a request';
  };

  const renderDetail = () => {
    const r = selected ? byIdMap.get(selected) : undefined;
    if (!r) return;
    detail.classList.remove('muted');
    const scorers = Object.keys(r.weights);
    const candidates = h(
      'table',
      { class: 'scores' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'candidate'),
          h('th', {}, 'total'),
          ...scorers.map((s) =>
            h('th', { 'data-scorer': s }, s, h('div', { class: 'muted small' }, `weight ${r.weights[s]}`)),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        ...r.top.map((c) =>
          h(
            'tr',
            { class: c.endpointId === r.chosen ? 'chosen' : '' },
            h(
              'td',
              { class: 'id' },
              c.endpointId,
              c.endpointId === r.chosen ? h('span', { class: 'badge ok' }, 'pick') : null,
            ),
            h('td', { class: 'num' }, c.total.toFixed(3)),
            ...scorers.map((s) =>
              h('td', { class: 'num' }, c.scores[s] === undefined ? dash : c.scores[s].toFixed(3)),
            ),
          ),
        ),
      ),
    );
    const siblings = order
      .map((id) => byIdMap.get(id)!)
      .filter((x) => x.requestId === r.requestId && x.id !== r.id && r.requestId !== '');
    const facts: Array<[string, string | HTMLElement]> = [
      ['request', r.requestId || dash],
      ['model', r.model],
      ['profile', r.profile || dash],
      ['class', r.sloClass ?? dash],
      ['router thread', r.worker === 0 ? 'main' : `worker ${r.worker}`],
      ['prompt / max tokens', `${r.promptTokens ?? dash} / ${r.maxTokens ?? dash}`],
      ['candidates', `${r.candidates} passed the filters, best ${r.top.length} shown`],
      ['predicted wait', ms(r.predictedWaitMs)],
      [
        'admission',
        r.admission ? `${r.admission.admitted ? 'admitted' : 'refused'}: ${r.admission.reason}` : dash,
      ],
      ['outcome', outcome(r)],
    ];
    if (r.outcome?.e2eMs !== undefined) facts.push(['end to end', ms(r.outcome.e2eMs)]);
    fill(
      detail,
      h('h3', {}, kindBadge(r), ` ${r.chosen ?? r.error ?? ''}`),
      h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      r.top.length ? candidates : h('p', { class: 'muted' }, 'No candidate passed the filters.'),
      siblings.length
        ? h(
            'p',
            { class: 'small' },
            'Same request: ',
            ...siblings.map((s) =>
              h(
                'a',
                { href: '#', click: (ev: Event) => (ev.preventDefault(), select(s.id)) },
                `${s.kind} → ${s.chosen ?? s.error ?? '?'} `,
              ),
            ),
          )
        : null,
    );
  };

  return {
    reset(records) {
      byIdMap.clear();
      rows.clear();
      tbody.replaceChildren();
      order = [];
      this.update(records);
    },
    update(records) {
      for (const r of records) {
        if (!byIdMap.has(r.id)) order.push(r.id);
        byIdMap.set(r.id, r);
        renderRow(r);
      }
      while (order.length > MAX_ROWS) {
        const id = order.shift()!;
        byIdMap.delete(id);
        rows.get(id)?.remove();
        rows.delete(id);
      }
      note();
      if (selected && records.some((r) => r.id === selected)) renderDetail();
    },
  };
}
