/**
 * The dashboard's browser code (`web/`), bundled by esbuild in memory on the first request and
 * kept: one script with uPlot inside and one stylesheet with uPlot's, so the page needs nothing
 * from the network but this node (no CDN; works offline). esbuild is loaded only then, so a node
 * nobody looks at never starts its service process.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { MeshError } from '../../core/errors.ts';

/** The page, its script and its stylesheet. */
export interface UiAssets {
  html: string;
  js: string;
  css: string;
}

export interface UiBundle {
  /** The assets, bundled once; a failed bundle is tried again on the next call. */
  get(): Promise<UiAssets>;
}

/** `web/` beside `src/` (or `dist/`) in the checkout or the installed package. */
const WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));

export function createUiBundle(webDir = WEB_DIR): UiBundle {
  let cached: Promise<UiAssets> | undefined;
  return {
    get() {
      cached ??= bundle(webDir).catch((err: unknown) => {
        cached = undefined;
        throw MeshError.from(err, 'internal');
      });
      return cached;
    },
  };
}

async function bundle(webDir: string): Promise<UiAssets> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    // The stylesheet is an entry of its own (uPlot's CSS @imported into it), not imported from TS.
    entryPoints: [`${webDir}main.ts`, `${webDir}style.css`],
    bundle: true,
    write: false,
    outdir: 'ui',
    format: 'iife',
    target: 'es2022',
    platform: 'browser',
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const file = (ext: string) => result.outputFiles.find((f) => f.path.endsWith(ext))?.text ?? '';
  const html = await readFile(`${webDir}index.html`, 'utf8');
  return { html, js: file('.js'), css: file('.css') };
}
