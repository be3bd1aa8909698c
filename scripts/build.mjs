#!/usr/bin/env node
// Builds the published package: tsc compiles src/ (tests and test fakes excluded) into dist/, and
// the generated protobuf code, which is JavaScript already, is copied beside it.
import { cpSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
rmSync(`${root}dist`, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`],
  {
    stdio: 'inherit',
  },
);
cpSync(`${root}src/gen`, `${root}dist/gen`, { recursive: true, filter: (p) => !p.endsWith('.d.ts') });
