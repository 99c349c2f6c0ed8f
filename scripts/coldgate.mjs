#!/usr/bin/env node
// The `coldgate` command. In a checkout it runs the TypeScript sources through tsx (no build
// step); an installed or released tree has no sources, only the bundle, and runs that with plain
// node (scripts/release.mjs): a box carries no TypeScript loader.
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/coldgate.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import('../dist/coldgate.mjs');
}
