#!/usr/bin/env node
// `npm run release`: dist/coldgate-VERSION.tar.gz, what a box is installed from (config/README.md).
// It holds what the box runs and nothing else: the prebuilt bundle, the display's files, the
// `coldgate` command, scripts/install and the systemd unit, the configs and their schema, and a
// package.json and package-lock.json with only the packages the bundle loads. So a box needs no
// compiler, no TypeScript loader and no devDependencies: scripts/install runs npm ci --omit=dev.
// usage: node scripts/release.mjs [--out DIR]   the tarball in DIR (default dist/)
//        node scripts/release.mjs --stage DIR   only the unpacked tree, in DIR (scripts/install
//                                               runs this in a checkout)
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bundle, OPTIONAL, packageOf } from './build.mjs';

const root = path.resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));

/** Whole folders and files the installed tree needs as they are in the checkout. */
const COPIED = ['README.md', 'config', 'scripts/coldgate.mjs', 'scripts/install', 'scripts/systemd', 'src/receiver/sql'];
/** The display's page, read from here at start (src/local/assets.ts): the files that are not code or docs. */
const ASSETS = 'src/local';
/** Loaded by name, not imported, so the bundle's imports do not show them (src/core/log.ts, on a terminal). */
const LOADED_BY_NAME = ['pino-pretty'];

/** The packages the bundle needs, each with the range package.json gives it. */
function runtimeDependencies(metafile) {
  const imports = Object.values(metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external && !isBuiltin(i.path) && !OPTIONAL.includes(i.path)));
  const names = [...new Set([...imports.map((i) => packageOf(i.path)), ...LOADED_BY_NAME])].sort();
  const missing = names.filter((n) => !pkg.dependencies?.[n]);
  if (missing.length) throw new Error(`release: the bundle loads ${missing.join(', ')}, not in package.json dependencies: add them`);
  return Object.fromEntries(names.map((n) => [n, pkg.dependencies[n]]));
}

/**
 * package-lock.json cut down to what `dependencies` reaches, found the way node does: the nearest
 * node_modules/NAME from the dependent's folder upwards. npm ci then installs exactly the
 * versions the checkout was tested with, and nothing else.
 */
function prunedLock(dependencies, manifest) {
  const all = lock.packages;
  const kept = {};
  const resolve = (from, name) => {
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      const key = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
      if (all[key]) return key;
      if (!dir) return undefined;
    }
  };
  const visit = (key) => {
    if (kept[key]) return;
    const { dev: _dev, devOptional: _devOptional, ...entry } = all[key];
    kept[key] = entry;
    const optional = { ...entry.optionalDependencies, ...entry.peerDependencies };
    for (const name of Object.keys({ ...entry.dependencies, ...optional })) {
      const found = resolve(key, name);
      if (found) visit(found);
      else if (!(name in optional)) throw new Error(`release: package-lock.json has no ${name} for ${key}: run npm install`);
    }
  };
  for (const name of Object.keys(dependencies)) {
    const found = resolve('', name);
    if (!found) throw new Error(`release: package-lock.json has no ${name}: run npm install`);
    visit(found);
  }
  const { name, version, license, bin, engines } = manifest;
  const sorted = Object.fromEntries(Object.keys(kept).sort().map((k) => [k, kept[k]]));
  return { name, version, lockfileVersion: lock.lockfileVersion, requires: true, packages: { '': { name, version, license, dependencies, bin, engines }, ...sorted } };
}

/** Writes the release tree into `dir` (emptied first). */
export async function stage(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const metafile = await bundle(path.join(dir, 'dist/coldgate.mjs'));
  for (const part of COPIED) cpSync(path.join(root, part), path.join(dir, part), { recursive: true });
  for (const file of readdirSync(path.join(root, ASSETS))) if (!/\.(ts|md)$/.test(file)) cpSync(path.join(root, ASSETS, file), path.join(dir, ASSETS, file));
  const dependencies = runtimeDependencies(metafile);
  const { name, version, description, type, license, engines, bin, allowScripts } = pkg;
  const manifest = { name, version, description, type, license, engines, bin, dependencies };
  const locked = prunedLock(dependencies, manifest);
  // Install scripts are allowed only for the native modules that are still installed.
  const scripts = Object.entries(allowScripts ?? {}).filter(([n]) => locked.packages[`node_modules/${n}`]);
  if (scripts.length) manifest.allowScripts = Object.fromEntries(scripts);
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(path.join(dir, 'package-lock.json'), `${JSON.stringify(locked, null, 2)}\n`);
  chmodSync(path.join(dir, 'scripts/install'), 0o755);
  return { dependencies, left: Object.keys(pkg.dependencies).filter((n) => !dependencies[n]) };
}

if (path.resolve(process.argv[1] ?? '') === path.resolve(import.meta.filename)) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, stage: { type: 'string' } } });
  if (values.stage) {
    await stage(path.resolve(values.stage));
    console.log(`staged ${path.resolve(values.stage)}`);
  } else {
    const out = path.resolve(values.out ?? path.join(root, 'dist'));
    const base = `${pkg.name}-${pkg.version}`;
    const tree = path.join(out, 'release', base);
    const { dependencies, left } = await stage(tree);
    const tarball = path.join(out, `${base}.tar.gz`);
    // Owned by root and in name order: the same checkout gives the same listing.
    execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-czf', tarball, '-C', path.dirname(tree), base]);
    rmSync(path.dirname(tree), { recursive: true, force: true });
    console.log(`${tarball}\n  runtime dependencies: ${Object.keys(dependencies).join(', ')}${left.length ? `\n  left out (the bundle does not load them): ${left.join(', ')}` : ''}`);
  }
}
