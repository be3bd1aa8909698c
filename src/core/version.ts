/** The package's version (package.json), for `--version` and node records. */
import { readFileSync } from 'node:fs';

// Two folders up from src/core (a checkout) or dist/core (the package): package.json either way.
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const MESH_VERSION: string = pkg.version;
