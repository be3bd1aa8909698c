/**
 * The fleet's tables, redrawn from each snapshot: endpoints (model, runtime, health, queue,
 * running, KV, prefix hits, TTFT/ITL p95, this router's in-flight), GPUs (utilisation, memory,
 * temperature, power, clocks, ECC/XID, quarantine with its reason) and nodes, plus the header's totals.
 */
import type { FleetSnapshot } from '../../src/observability/fleet-view/types.ts';
import { byId, fill, h } from '../dom.ts';
import { bytes, dash, ms, num, pct, shortId } from '../format.ts';

const head = (...names: string[]) => h('thead', {}, h('tr', {}, ...names.map((n) => h('th', {}, n))));
const cell = (text: string | number, cls = 'num') => h('td', { class: cls }, text);
const badge = (text: string, kind: string) => h('span', { class: `badge ${kind}` }, text);

/** A small bar for a 0..1 value, coloured by how full it is. */
function bar(ratio: number, warnAt = 0.8): HTMLElement {
  const level = ratio >= 0.95 ? 'bad' : ratio >= warnAt ? 'warn' : 'ok';
  return h('span', { class: `meter ${level}` }, h('span', { style: `width:${Math.min(100, ratio * 100)}%` }));
}

/** A cell with the bar and the number beside it. */
function meter(ratio: number | undefined, warnAt = 0.8): HTMLElement {
  if (ratio === undefined) return h('td', { class: 'num' }, dash);
  return h('td', { class: 'num meter-cell' }, bar(ratio, warnAt), pct(ratio));
}

export function renderTotals(fleet: FleetSnapshot): void {
  const t = fleet.totals;
  const item = (label: string, value: string, kind = '') =>
    h('span', { class: `total ${kind}` }, h('b', {}, value), ` ${label}`);
  fill(
    byId('totals'),
    item('nodes', String(t.nodes)),
    item('GPUs', String(t.gpus)),
    item('quarantined', String(t.quarantined), t.quarantined > 0 ? 'bad' : ''),
    item(
      'endpoints healthy',
      `${t.healthyEndpoints}/${t.endpoints}`,
      t.healthyEndpoints < t.endpoints ? 'warn' : '',
    ),
    item('in flight', String(t.inFlight)),
    item('queued', String(t.queued)),
  );
}

export function renderEndpoints(fleet: FleetSnapshot): void {
  const rows = fleet.endpoints.map((e) => {
    const health = !e.loaded ? 'unloaded' : e.warming ? 'warming' : e.health;
    const kind = health === 'healthy' ? 'ok' : health === 'stale' || health === 'warming' ? 'warn' : 'bad';
    return h(
      'tr',
      { 'data-endpoint': e.endpointId, 'data-health': health },
      cell(e.endpointId, 'id'),
      cell(e.model, ''),
      cell(e.runtime, ''),
      h('td', {}, badge(health, kind)),
      cell(num(e.queueDepth)),
      cell(num(e.running)),
      meter(e.kvCacheUsage),
      cell(pct(e.prefixCacheHitRate)),
      cell(ms(e.ttftP95Ms)),
      cell(ms(e.itlP95Ms)),
      cell(e.inFlight),
      cell(e.gpuUuids.map((u) => shortId(u)).join(', ') || dash, 'id'),
    );
  });
  fill(
    byId('endpoints'),
    head(
      'endpoint',
      'model',
      'runtime',
      'health',
      'queue',
      'running',
      'KV',
      'prefix hits',
      'TTFT p95',
      'ITL p95',
      'in flight',
      'GPUs',
    ),
    h('tbody', {}, ...rows),
  );
}

export function renderGpus(fleet: FleetSnapshot): void {
  const rows = fleet.gpus.map((g) => {
    const q = g.quarantine;
    const state = q
      ? badge(`quarantined: ${q.reason}`, 'bad')
      : g.healthy
        ? badge('healthy', 'ok')
        : badge('unhealthy', 'bad');
    const memory = g.memoryTotalBytes ? (g.memoryUsedBytes ?? 0) / g.memoryTotalBytes : undefined;
    const power =
      g.powerWatts === undefined
        ? dash
        : `${Math.round(g.powerWatts)}${g.powerLimitWatts ? ` / ${Math.round(g.powerLimitWatts)}` : ''} W`;
    const ecc = `${g.eccCorrected ?? dash} / ${g.eccUncorrected ?? dash}`;
    return h(
      'tr',
      { 'data-gpu': g.uuid, class: q ? 'quarantined' : '', title: q?.detail ?? '' },
      cell(`${g.node} #${g.index}`, 'id'),
      cell(shortId(g.uuid), 'id'),
      cell(g.name, ''),
      h('td', { class: 'state' }, state, q?.detail ? h('div', { class: 'muted small' }, q.detail) : null),
      meter(g.smUtilization, 0.9),
      h(
        'td',
        { class: 'num meter-cell' },
        memory === undefined ? null : bar(memory),
        `${bytes(g.memoryUsedBytes)} / ${bytes(g.memoryTotalBytes)}`,
      ),
      cell(g.temperatureC === undefined ? dash : `${Math.round(g.temperatureC)} °C`),
      cell(power),
      cell(g.smClockMHz === undefined ? dash : `${g.smClockMHz} MHz`),
      cell(ecc),
      cell(g.xidLast ?? dash),
      cell((g.throttleReasons ?? []).join(', ') || dash, 'small'),
      cell(g.endpoints.join(', ') || dash, 'id'),
    );
  });
  fill(
    byId('gpus'),
    head(
      'GPU',
      'UUID',
      'name',
      'state',
      'util',
      'memory',
      'temp',
      'power',
      'SM clock',
      'ECC corr / uncorr',
      'XID',
      'throttle',
      'endpoints',
    ),
    h('tbody', {}, ...rows),
  );
}

export function renderNodes(fleet: FleetSnapshot): void {
  const rows = fleet.nodes.map((n) => {
    const kind =
      n.status === 'healthy' ? 'ok' : n.status === 'draining' || n.status === 'unknown' ? 'warn' : 'bad';
    return h(
      'tr',
      { 'data-node': n.id },
      cell(`${n.id}${n.self ? ' (this node)' : ''}`, 'id'),
      cell(n.roles.join(', ') || dash, ''),
      h('td', {}, badge(n.status, kind)),
      cell(n.zone || dash, ''),
      cell(n.endpoints),
      cell(n.gpus),
      cell(n.version || dash, ''),
    );
  });
  fill(
    byId('nodes'),
    head('node', 'roles', 'state', 'zone', 'endpoints', 'GPUs', 'version'),
    h('tbody', {}, ...rows),
  );
}
