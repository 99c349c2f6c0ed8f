#!/usr/bin/env node
// Bundles the coldgate command into one CommonJS file for plain node, its packages inside but for
// those that must stay on disk (ON_DISK), and puts scripts/bundle-entry.mjs beside it as the file
// to run: that one loads the bundle through V8's code cache (a script's cache: hence CommonJS).
// The service runs it: no TypeScript loader at run time, ~30 MB less RSS, a faster start.
// usage: node scripts/build.mjs [--outfile FILE]   (default dist/coldgate.mjs; the bundle is FILE with .cjs)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { copyFile, readFile } from 'node:fs/promises';
import { build, transform } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');

/**
 * Packages that stay imports from node_modules: the two that load a native addon from their own
 * folder, and what only some commands load (aedes: the demo's broker; pg: the receiver).
 * Everything else goes in: node resolved, read and compiled some 200 files of mqtt,
 * modbus-serial, serialport and pino at each start, with a package.json and a realpath each.
 * (pino-pretty too stays on disk: src/core/log.ts loads it by name, on a terminal only.)
 */
export const ON_DISK = ['classic-level', '@serialport/bindings-cpp', 'aedes', 'pg'];

/** What packages inside try to require in a try/catch and do without (ws, debug): not installed, left as requires. */
export const OPTIONAL = ['bufferutil', 'utf-8-validate', 'supports-color'];

/** `zod`, `@scope/name/sub` -> the package's name. */
export const packageOf = (spec) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

/**
 * The packages go in with their whitespace and syntax minified: V8 keeps every loaded module's
 * source text on the heap (zod's alone was 1.5 MB of it, 1.4 MiB RSS in the steady bench). Their
 * identifiers stay and our own code is left as written, so stack traces still read; the syntax
 * pass drops unused names of function expressions, so a frame in a package may read
 * `module2.exports` (whitespace alone would keep them for 0.16 MB more source).
 */
const packagesInside = {
  name: 'packages-inside',
  setup(b) {
    // zod's namespaces (z.locales, core.locales) carry all of its ~50 locales, 0.35 MB of source on the heap; messages here are English.
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (a) => (/[\\/]zod[\\/]v4[\\/](classic[\\/]external|core[\\/]index)\.js$/.test(a.importer) ? { path: path.join(path.dirname(a.importer), '../locales/en.js'), namespace: 'zod-english' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'zod-english' }, (a) => ({ contents: `export { default as en } from ${JSON.stringify(a.path)};`, loader: 'js', resolveDir: path.dirname(a.path) }));
    b.onResolve({ filter: /^[^./]/ }, (a) => (ON_DISK.includes(packageOf(a.path)) ? { path: a.path, external: true } : undefined));
    b.onLoad({ filter: /[\\/]node_modules[\\/].*\.[cm]?js$/ }, async (a) => ({
      contents: (await transform(await readFile(a.path, 'utf8'), { loader: 'js', minifyWhitespace: true, minifySyntax: true })).code,
      loader: 'js',
    }));
  },
};

/** The bundle that the entry `outfile` (an .mjs) runs. */
const bundleOf = (outfile) => outfile.replace(/\.mjs$/, '.cjs');

/** Writes the entry to `outfile` and the bundle beside it; the metafile lists the packages the bundle imports (scripts/release.mjs). */
export async function bundle(outfile) {
  if (!outfile.endsWith('.mjs')) throw new Error(`build: ${outfile}: the entry is an .mjs file (the bundle goes beside it as .cjs)`);
  const result = await build({
    entryPoints: [path.join(root, 'src/cli/coldgate.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    plugins: [packagesInside],
    // Our code finds its files from its own place (src/core/paths.ts, src/core/log.ts).
    define: { 'import.meta.url': '__coldgateUrl' },
    banner: { js: "const __coldgateUrl = require('node:url').pathToFileURL(__filename).href;" },
    outfile: bundleOf(outfile),
    metafile: true,
    logLevel: 'warning',
  });
  await copyFile(path.join(root, 'scripts/bundle-entry.mjs'), outfile);
  return result.metafile;
}

if (path.resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { outfile: { type: 'string' } } });
  const outfile = path.resolve(values.outfile ?? path.join(root, 'dist/coldgate.mjs'));
  await bundle(outfile);
  console.log(`built ${outfile}`);
}
