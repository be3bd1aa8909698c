// The Grafana dashboards (deploy/grafana): each is a well-formed dashboard model (unique panel ids,
// a grid without overlaps, every query on the `datasource` variable, every variable it uses
// defined), reads only series meshd exports, the shipped rules record or the runtimes serve, and
// its provisioning files point at it. Then every panel's query, with the template variables
// substituted as Grafana would, runs against a real Prometheus scraping a mesh that served
// traffic (test/helpers/prometheus-mesh.ts): no query may fail, and no core panel may be empty.
// Grafana itself is not run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { prometheusSkipReason } from './helpers/prometheus.ts';
import { startPrometheusMesh, type PrometheusMesh } from './helpers/prometheus-mesh.ts';

const grafana = new URL('../deploy/grafana/', import.meta.url);
const read = (path: string, base: URL = grafana) => readFileSync(new URL(path, base), 'utf8');

interface Target {
  refId: string;
  expr: string;
  datasource?: { type?: string; uid?: string };
  instant?: boolean;
  legendFormat?: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  datasource?: { type?: string; uid?: string };
  allValue?: string;
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  tags: string[];
  panels: Panel[];
  templating: { list: Variable[] };
}

const files = readdirSync(new URL('dashboards/', grafana))
  .filter((f) => f.endsWith('.json'))
  .sort();
const dashboards = new Map(files.map((f) => [f, JSON.parse(read(`dashboards/${f}`)) as Dashboard]));
const queryPanels = (d: Dashboard) => d.panels.filter((p) => p.type !== 'row');

/**
 * Panels that may be empty on the test mesh, each with why: they show events the mesh has not had
 * (hedging is off, no tenants or quotas, no refusals, no failing scrapes, no ECC or XID fault).
 * Every other panel is core: it must have data.
 */
const MAY_BE_EMPTY: Record<string, Record<string, string>> = {
  'fleet-overview.json': { 'Runtime scrape errors by reason': 'no runtime scrape fails' },
  'routing.json': {
    'Refused before routing, by code': 'nothing is refused',
    'Quota rejections by tenant': 'no quota',
    'Admitted requests by tenant': 'no tenant',
    'Hedges sent and won': 'hedging is off',
    'Hedge win ratio': 'hedging is off',
    'Hedged attempts cancelled': 'hedging is off',
    'Hedges suppressed by reason': 'hedging is off',
  },
  'gpu-health.json': { 'ECC and XID quarantines': 'the quarantined GPU overheated' },
};

/** The datasource every panel, target and query variable names: the dashboard's own variable. */
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
/** Grafana's built-in interval variables, as a dashboard over the test's minutes would set them. */
const BUILTINS: Record<string, string> = { __rate_interval: '1m', __interval: '15s', __range: '5m' };

/** An expression with Grafana's variables substituted: built-ins, and `All` (the allValue) for the dashboard's. */
function substitute(expr: string, vars: Variable[]): string {
  return expr.replace(
    /\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g,
    (whole, a?: string, b?: string, c?: string) => {
      const name = (a ?? b ?? c)!;
      if (BUILTINS[name]) return BUILTINS[name];
      const v = vars.find((x) => x.name === name);
      if (!v?.allValue) throw new Error(`${whole}: not a variable of the dashboard with an "All" value`);
      return v.allValue;
    },
  );
}

const variableQuery = (v: Variable) => (typeof v.query === 'string' ? v.query : v.query.query);

test('there are the three dashboards, with unique uids', () => {
  assert.deepEqual(files, ['fleet-overview.json', 'gpu-health.json', 'routing.json']);
  const uids = [...dashboards.values()].map((d) => d.uid);
  assert.equal(new Set(uids).size, uids.length);
});

for (const [file, dash] of dashboards) {
  test(`${file}: a well-formed dashboard model`, () => {
    assert.ok(dash.schemaVersion >= 36 && dash.schemaVersion <= 41, `schemaVersion ${dash.schemaVersion}`);
    assert.ok(dash.title.startsWith('InferMesh / '), dash.title);
    assert.ok(dash.tags.includes('infermesh'));
    const ids = dash.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `panel ids not unique: ${ids.join()}`);
    const titles = queryPanels(dash).map((p) => p.title);
    assert.equal(new Set(titles).size, titles.length, 'panel titles not unique');

    // The grid: 24 columns, integer cells, no two panels on the same cell.
    const taken = new Map<string, string>();
    for (const p of dash.panels) {
      const { x, y, w, h } = p.gridPos;
      assert.ok([x, y, w, h].every(Number.isInteger) && w > 0 && h > 0 && x >= 0 && x + w <= 24, p.title);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          const other = taken.get(`${i},${j}`);
          assert.equal(other, undefined, `${p.title} overlaps ${other}`);
          taken.set(`${i},${j}`, p.title);
        }
      }
    }

    const vars = dash.templating.list;
    const ds = vars.find((v) => v.name === 'datasource');
    assert.equal(ds?.type, 'datasource');
    assert.equal(ds?.query, 'prometheus');
    for (const v of vars.filter((x) => x.type === 'query')) {
      assert.deepEqual(v.datasource, DATASOURCE, `variable ${v.name}`);
      assert.match(variableQuery(v), /^label_values\(.+, \w+\)$/, `variable ${v.name}`);
    }
    for (const p of queryPanels(dash)) {
      assert.deepEqual(p.datasource, DATASOURCE, `${p.title}: datasource`);
      assert.ok(p.description, `${p.title}: a description says what it shows`);
      assert.ok(p.targets?.length, `${p.title}: no queries`);
      const refIds = p.targets.map((t) => t.refId);
      assert.equal(new Set(refIds).size, refIds.length, `${p.title}: refIds`);
      for (const t of p.targets) {
        assert.deepEqual(t.datasource, DATASOURCE, `${p.title} ${t.refId}: datasource`);
        // Throws on a variable the dashboard does not define.
        assert.doesNotMatch(substitute(t.expr, vars), /\$/, `${p.title} ${t.refId}`);
      }
    }
    for (const title of Object.keys(MAY_BE_EMPTY[file] ?? {})) {
      assert.ok(titles.includes(title), `MAY_BE_EMPTY names ${title}, which ${file} lacks`);
    }
  });
}

test('every series the panels read is exported by meshd, recorded by the rules or served by vLLM', () => {
  const metricsDoc = read('../../docs/METRICS.md');
  const rules = read('../prometheus/rules/infermesh.rules.yml');
  const vllmPage = readFileSync(new URL('../src/sim/metrics-page.ts', import.meta.url), 'utf8');
  const problems: string[] = [];
  for (const [file, dash] of dashboards) {
    const exprs = [
      ...queryPanels(dash).flatMap((p) => p.targets!.map((t) => t.expr)),
      ...dash.templating.list.filter((v) => v.type === 'query').map(variableQuery),
    ];
    for (const expr of exprs) {
      // Metric names, not label values such as job="infermesh".
      for (const [name] of expr.matchAll(/(?<![\w"])(?:[a-z_:]*infermesh[a-z_:]*|vllm:[a-z_]+)(?![\w"])/g)) {
        const ok = name.includes(':')
          ? name.startsWith('vllm:')
            ? vllmPage.includes(`'${name.replace(/_total$/, '')}'`)
            : rules.includes(`record: ${name}`) || name === 'model:infermesh_slo_ttft_budget_seconds'
          : metricsDoc.includes(`\`${name.replace(/_(bucket|sum|count)$/, '')}\``);
        if (!ok) problems.push(`${file}: ${name}`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('the provisioning files load the dashboards from one folder on a Prometheus data source', () => {
  const datasources = parse(read('provisioning/datasources/prometheus.yml')) as {
    apiVersion: number;
    datasources: Array<{ type: string; url: string; access: string }>;
  };
  assert.equal(datasources.apiVersion, 1);
  assert.equal(datasources.datasources.length, 1);
  assert.equal(datasources.datasources[0]!.type, 'prometheus');
  assert.equal(datasources.datasources[0]!.access, 'proxy');
  assert.match(datasources.datasources[0]!.url, /^http:\/\//);
  const providers = parse(read('provisioning/dashboards/infermesh.yml')) as {
    apiVersion: number;
    providers: Array<{ type: string; folder: string; options: { path: string } }>;
  };
  assert.equal(providers.apiVersion, 1);
  assert.equal(providers.providers[0]!.type, 'file');
  assert.ok(providers.providers[0]!.options.path.startsWith('/'));
});

const skip = prometheusSkipReason();
let mesh: PrometheusMesh | undefined;
before(async () => {
  if (!skip) mesh = await startPrometheusMesh();
});
after(async () => {
  await mesh?.close();
});

/** Whether a query answer holds at least one number (NaN, as in 0/0, is no data to Grafana). */
function hasData(result: Array<{ value?: [number, string]; values?: Array<[number, string]> }>): boolean {
  return result.some((s) =>
    (s.values ?? (s.value ? [s.value] : [])).some(([, v]) => Number.isFinite(Number(v))),
  );
}

test('every panel query runs on Prometheus, and every core panel has data', { skip }, async () => {
  const { prometheus } = mesh!;
  const end = Date.now() / 1000;
  const problems: string[] = [];
  let queries = 0;
  for (const [file, dash] of dashboards) {
    const vars = dash.templating.list;
    for (const v of vars.filter((x) => x.type === 'query')) {
      // label_values(selector, label): the values Grafana would offer.
      const [, selector, label] = /^label_values\((.+), (\w+)\)$/.exec(substitute(variableQuery(v), vars))!;
      const answer = await prometheus.api<string[]>(`label/${label}/values`, { 'match[]': selector! });
      if (answer.status !== 'success') problems.push(`${file} variable ${v.name}: ${answer.error}`);
      else if (answer.data.length === 0) problems.push(`${file} variable ${v.name}: no values`);
    }
    for (const p of queryPanels(dash)) {
      let data = false;
      for (const t of p.targets!) {
        queries++;
        const query = substitute(t.expr, vars);
        // A table reads one instant; a graph reads the last two minutes, every 5 s.
        const answer = t.instant
          ? await prometheus.api<{ result: [] }>('query', { query })
          : await prometheus.api<{ result: [] }>('query_range', {
              query,
              start: String(end - 120),
              end: String(end),
              step: '5',
            });
        if (answer.status !== 'success') problems.push(`${file} "${p.title}" ${t.refId}: ${answer.error}`);
        else data ||= hasData(answer.data.result);
      }
      if (!data && !(p.title in (MAY_BE_EMPTY[file] ?? {}))) problems.push(`${file} "${p.title}": no data`);
    }
  }
  assert.ok(queries >= 50, `${queries} queries`);
  assert.deepEqual(problems, []);
});
