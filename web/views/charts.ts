/**
 * The live charts (uPlot): TTFT p50/p99 per model, requests/s by status, queue depth and KV use
 * per endpoint, over the last minutes. Points come from the stream (one a second); a chart is
 * rebuilt only when its set of series changes (a new model, status or endpoint), otherwise its
 * data is replaced in place. Each chart's element carries `data-points` and `data-last` (the sum
 * of its latest values) so a test can see it move.
 */
import uPlot from 'uplot';
import type { SeriesPoint } from '../../src/observability/fleet-view/types.ts';
import { byId, h } from '../dom.ts';

/** Points kept in the browser (10 minutes at one a second). */
const MAX_POINTS = 600;
const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
];

interface ChartSpec {
  key: string;
  title: string;
  unit: string;
  /** Series names and values of one point (null: a gap). */
  values(p: SeriesPoint): Map<string, number | null>;
  /** A colour per series name; status charts colour by class. */
  color?(name: string, i: number): string;
  dash?(name: string): number[] | undefined;
}

const statusColor = (name: string, i: number) =>
  name.startsWith('2')
    ? '#59a14f'
    : name === '429'
      ? '#edc948'
      : name.startsWith('4')
        ? '#f28e2b'
        : name.startsWith('5')
          ? '#e15759'
          : PALETTE[i % PALETTE.length]!;

const SPECS: ChartSpec[] = [
  {
    key: 'ttft',
    title: 'TTFT p50 / p99 by model',
    unit: 'ms',
    values(p) {
      const out = new Map<string, number | null>();
      for (const [model, q] of Object.entries(p.ttft)) {
        out.set(`${model} p50`, q.p50);
        out.set(`${model} p99`, q.p99);
      }
      return out;
    },
    dash: (name) => (name.endsWith('p99') ? [6, 4] : undefined),
  },
  {
    key: 'rps',
    title: 'Requests/s by status',
    unit: 'req/s',
    values: (p) => new Map(Object.entries(p.rps)),
    color: statusColor,
  },
  {
    key: 'queue',
    title: 'Queue by endpoint',
    unit: 'requests',
    values: (p) => new Map(Object.entries(p.queue)),
  },
  {
    key: 'kv',
    title: 'KV cache by endpoint',
    unit: '%',
    values: (p) => new Map(Object.entries(p.kv).map(([k, v]) => [k, v * 100])),
  },
];

interface Chart {
  spec: ChartSpec;
  el: HTMLElement;
  plot?: uPlot;
  names: string[];
}

export interface Charts {
  /** Replaces every chart's points (a new stream's history). */
  reset(points: readonly SeriesPoint[]): void;
  push(point: SeriesPoint): void;
}

export function createCharts(): Charts {
  const root = byId('charts');
  const points: SeriesPoint[] = [];
  const charts: Chart[] = SPECS.map((spec) => {
    const el = h('div', { class: 'chart', 'data-chart': spec.key, 'data-points': 0 });
    root.append(
      h(
        'figure',
        { class: 'panel chart-panel' },
        h('figcaption', {}, spec.title, h('span', { class: 'muted' }, ` ${spec.unit}`)),
        el,
      ),
    );
    return { spec, el, names: [] };
  });
  const resize = new ResizeObserver(() => {
    for (const c of charts) c.plot?.setSize(size(c.el));
  });
  for (const c of charts) resize.observe(c.el);

  const draw = () => {
    for (const c of charts) {
      const perPoint = points.map((p) => c.spec.values(p));
      const names = [...new Set(perPoint.flatMap((m) => [...m.keys()]))].sort();
      const data: uPlot.AlignedData = [
        points.map((p) => p.t),
        ...names.map((n) => perPoint.map((m) => m.get(n) ?? null)),
      ];
      if (!c.plot || names.join('\n') !== c.names.join('\n')) {
        c.plot?.destroy();
        c.names = names;
        c.plot = new uPlot(options(c.spec, names, size(c.el)), data, c.el);
      } else {
        c.plot.setData(data);
      }
      const last = perPoint.at(-1);
      c.el.dataset.points = String(points.length);
      c.el.dataset.last = String(last ? [...last.values()].reduce<number>((s, v) => s + (v ?? 0), 0) : 0);
    }
  };

  return {
    reset(history) {
      points.splice(0, points.length, ...history.slice(-MAX_POINTS));
      draw();
    },
    push(point) {
      points.push(point);
      if (points.length > MAX_POINTS) points.shift();
      draw();
    },
  };
}

function size(el: HTMLElement): { width: number; height: number } {
  return { width: Math.max(240, el.clientWidth), height: 180 };
}

function options(spec: ChartSpec, names: string[], dims: { width: number; height: number }): uPlot.Options {
  const axisColor = getComputedStyle(document.body).getPropertyValue('--muted').trim() || '#888';
  const grid = {
    stroke: getComputedStyle(document.body).getPropertyValue('--grid').trim() || '#8883',
    width: 1,
  };
  return {
    ...dims,
    legend: { live: false },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: true },
      y: { range: (_u, _min, max) => [0, Math.max(max, spec.key === 'kv' ? 100 : 1)] },
    },
    axes: [
      { stroke: axisColor, grid, ticks: grid },
      { stroke: axisColor, grid, ticks: grid, size: 50 },
    ],
    series: [
      {},
      ...names.map((name, i) => ({
        label: name,
        stroke: spec.color?.(name, i) ?? PALETTE[Math.floor(spec.dash ? i / 2 : i) % PALETTE.length],
        width: 1.5,
        dash: spec.dash?.(name),
        spanGaps: false,
        points: { show: false },
      })),
    ],
  };
}
