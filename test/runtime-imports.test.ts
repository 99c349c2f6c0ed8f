/**
 * What the service holds in memory is what it loads: the demo's in-process MQTT broker (aedes)
 * is loaded only when the config asks for it. Checked in a fresh process, since this one has
 * loaded whatever other test files imported. Nor does an mqtt:// uplink load MQTT.js's
 * WebSocket and SOCKS transports. aedes itself is ESM, which no cache lists: its
 * CommonJS dependency mqemitter (used by nothing else) stands for it.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const loadedPackages = (script: string): string[] => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url), encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as string[];
};

const LIST = `
import { createRequire } from 'node:module';
const loaded = Object.keys(createRequire(import.meta.url).cache).map((f) => /node_modules\\/([^/]+)/.exec(f)?.[1]).filter(Boolean);
console.log(JSON.stringify([...new Set(loaded)]));`;

describe('the runtime loads only what it runs', () => {
  it('importing the gateway loads mqtt and level, but not aedes', () => {
    const loaded = loadedPackages(`await import('./src/runtime/gateway.ts');${LIST}`);
    expect(loaded).toEqual(expect.arrayContaining(['mqtt', 'classic-level']));
    expect(loaded).not.toContain('mqemitter');
  });

  it('an mqtt:// uplink connection loads no WebSocket or SOCKS transport; ws:// does', () => {
    const client = (url: string) => `
      const { connectMqtt } = await import('./src/uplink/connect.ts');
      const c = connectMqtt('${url}', { reconnectPeriod: 0, connectTimeout: 500 });
      c.on('error', () => {});
      await new Promise((r) => c.once('close', r));
      c.end(true);${LIST}`;
    const tcp = loadedPackages(client('mqtt://127.0.0.1:1'));
    expect(tcp).toContain('mqtt');
    expect(tcp).not.toContain('ws');
    expect(tcp).not.toContain('socks');
    expect(loadedPackages(client('ws://127.0.0.1:1'))).toContain('ws');
  });

  it('starting the embedded broker loads it', () => {
    const loaded = loadedPackages(`
      const { startEmbeddedBroker } = await import('./src/uplink/embedded-broker.ts');
      const { silentLogger } = await import('./src/core/log.ts');
      const b = await startEmbeddedBroker('127.0.0.1', 0, silentLogger);
      await b.close();${LIST}`);
    expect(loaded).toContain('mqemitter');
  });
});

type Meta = { outputs: Record<string, { imports: { path: string; kind: string; external?: boolean }[]; inputs: Record<string, { bytesInOutput: number }> }> };

describe('the service bundle (dist/coldgate.mjs)', () => {
  let dir = '';
  let file = '';
  let meta: Meta;
  beforeAll(async () => {
    // @ts-expect-error scripts/build.mjs is plain JavaScript without types
    const { bundle } = (await import('../scripts/build.mjs')) as { bundle: (outfile: string) => Promise<Meta> };
    // Inside the checkout: the bundle imports its packages from node_modules, as the install's does.
    const dist = fileURLToPath(new URL('../dist', import.meta.url));
    mkdirSync(dist, { recursive: true });
    dir = mkdtempSync(path.join(dist, 'test-bundle-'));
    file = path.join(dir, 'coldgate.mjs');
    meta = await bundle(file);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the PostgreSQL client only when a receiver command runs: pg is a dynamic import, never a static one', () => {
    const pgImports = Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.path === 'pg'));
    expect(pgImports.length).toBeGreaterThan(0);
    expect(pgImports.map((i) => i.kind)).toEqual(pgImports.map(() => 'dynamic-import'));
  });

  it('carries zod inside with its whitespace minified (V8 keeps every loaded source on the heap), and checks a config with it', () => {
    expect(Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.path === 'zod' || i.path.startsWith('zod/')))).toEqual([]);
    const zod = Object.values(meta.outputs).flatMap((o) => Object.entries(o.inputs).filter(([input]) => input.includes('node_modules/zod/')));
    expect(zod.length).toBeGreaterThan(50);
    const inBundle = zod.reduce((n, [, x]) => n + x.bytesInOutput, 0);
    // The metafile's input sizes are after the minifying load: the files' own are on disk.
    const source = zod.reduce((n, [input]) => n + statSync(new URL(`../${input}`, import.meta.url)).size, 0);
    // As written, bundled zod is ~0.95 of its files; minified ~0.83.
    expect(inBundle / source).toBeLessThan(0.9);
    const out = execFileSync(process.execPath, [file, 'validate', '--config', 'config/demo.json'], { cwd: new URL('..', import.meta.url), encoding: 'utf8' });
    expect(out).toMatch(/ok|valid/i);
  });
});
