// Runs an entry point of the package: in a checkout, the TypeScript source as it is (Node strips
// the types; nothing to build first); in an installed package, which ships no src/, the compiled
// copy in dist/ that `npm pack` builds.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import './require-node.js';

export async function launch(entry) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const source = `${root}src/${entry}.ts`;
  const target = existsSync(source) ? source : `${root}dist/${entry}.js`;
  return import(pathToFileURL(target).href);
}
