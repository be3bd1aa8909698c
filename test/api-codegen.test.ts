// src/gen is generated from proto/ by `npm run gen` and committed; this regenerates it into a temp
// dir with the same buf template and prettier config and fails on any difference (drift).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'node_modules', '.bin');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

test('buf lint passes and src/gen matches what buf generate makes from proto/', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'infermesh-gen-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  // protoc-gen-es is a local plugin found on PATH, as under `npm run gen`; nothing is fetched.
  const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
  execFileSync(join(bin, 'buf'), ['lint'], { cwd: root, env, stdio: 'pipe' });
  execFileSync(join(bin, 'buf'), ['generate', '--output', out], { cwd: root, env, stdio: 'pipe' });

  const fresh = join(out, 'src', 'gen');
  const committed = join(root, 'src', 'gen');
  const names = (dir: string) =>
    files(dir)
      .map((f) => relative(dir, f))
      .sort();
  assert.deepEqual(names(committed), names(fresh), 'generated file set differs: run `npm run gen`');
  for (const name of names(fresh)) {
    // Format as `prettier --write src/gen` would, with the options it resolves for the real path.
    const target = join(committed, name);
    const options = await prettier.resolveConfig(target, { editorconfig: true });
    const formatted = await prettier.format(readFileSync(join(fresh, name), 'utf8'), {
      ...options,
      filepath: target,
    });
    assert.equal(formatted, readFileSync(target, 'utf8'), `${name} is stale: run \`npm run gen\``);
  }
});
