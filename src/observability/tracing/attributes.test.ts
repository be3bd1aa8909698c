import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ATTR, EVENT, SPAN } from './attributes.ts';

const page = new URL('../../../docs/OBSERVABILITY.md', import.meta.url);
// The page's "Traces" section, to the end of the page.
const doc = readFileSync(page, 'utf8').split('\n## Traces (OpenTelemetry)')[1] ?? '';
/** Config keys the page names that share a namespace with span names. */
const CONFIG_KEYS = new Set(['router.workers']);
const declared = new Set<string>([...Object.values(ATTR), ...Object.values(SPAN), ...Object.values(EVENT)]);

test('every span, attribute and event name the tracing docs mention is declared', () => {
  // Backticked names in the mesh's namespaces; `infermesh.control.v1…` are RPC names, not attributes.
  const mentioned = [...doc.matchAll(/`((?:router|runtime|infermesh|gen_ai)\.[a-z0-9_.]+)`/g)]
    .map((m) => m[1]!)
    .filter((name) => !/^infermesh\.[a-z]+\.v\d/.test(name) && !CONFIG_KEYS.has(name));
  assert.ok(mentioned.length > 20, `only ${mentioned.length} names found in ${page.pathname}`);
  for (const name of mentioned) assert.ok(declared.has(name), `${name} is in the docs but not declared`);
});

test('every declared name is in the tracing docs', () => {
  for (const name of declared) assert.ok(doc.includes(`\`${name}\``), `${name} is not documented`);
});
