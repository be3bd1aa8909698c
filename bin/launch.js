// Runs a TypeScript entry point: the compiled copy in dist/ when `npm run build` made one,
// else the source through tsx (so a fresh `npm ci` works without a build step).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

export async function launch(entry) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const compiled = `${root}dist/${entry}.js`;
  if (existsSync(compiled)) return import(pathToFileURL(compiled).href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(`${root}src/${entry}.ts`).href);
}
