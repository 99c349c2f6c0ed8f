/**
 * What the service holds in memory is what it loads: the demo's in-process MQTT broker (aedes)
 * is loaded only when the config asks for it. Checked in a fresh process, since this one has
 * loaded whatever other test files imported. Nor does an mqtt:// uplink load MQTT.js's
 * WebSocket and SOCKS transports. aedes itself is ESM, which no cache lists: its
 * CommonJS dependency mqemitter (used by nothing else) stands for it.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/net.ts';
import { PtyPair } from './helpers/pty.ts';
import { PymodbusSlave } from './peers/pymodbus.ts';

const loadedPackages = (script: string): string[] => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: new URL('..', import.meta.url), encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as string[];
};

const LIST = `
import { createRequire } from 'node:module';
const loaded = Object.keys(createRequire(import.meta.url).cache).map((f) => /node_modules\\/([^/]+)/.exec(f)?.[1]).filter(Boolean);
// node's TLS modules are no package: named node:tls when loaded.
console.log(JSON.stringify([...new Set(loaded), ...(process.moduleLoadList.includes('NativeModule tls') ? ['node:tls'] : [])]));`;

describe('the runtime loads only what it runs', () => {
  it('importing the gateway loads mqtt and level, but not aedes', () => {
    const loaded = loadedPackages(`await import('./src/runtime/gateway.ts');${LIST}`);
    expect(loaded).toEqual(expect.arrayContaining(['mqtt', 'classic-level']));
    expect(loaded).not.toContain('mqemitter');
  });

  it('an mqtt:// uplink connection loads no WebSocket, SOCKS or TLS transport; ws:// and mqtts:// do', () => {
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
    expect(tcp).not.toContain('node:tls');
    expect(loadedPackages(client('ws://127.0.0.1:1'))).toContain('ws');
    expect(loadedPackages(client('mqtts://127.0.0.1:1'))).toContain('node:tls');
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

describe('the service bundle (dist/coldgate.mjs, running dist/coldgate.cjs)', () => {
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

  /** A gateway with no probes and no broker to reach: it starts, opens its journal and runs. */
  const gatewayConfig = async (name: string) => {
    const config = path.join(dir, `${name}.json`);
    writeFileSync(config, JSON.stringify({ gatewayId: 'van-1', dataDir: path.join(dir, `${name}-data`), uplink: { url: `mqtt://127.0.0.1:${await freePort()}` }, local: { http: { host: '127.0.0.1', port: await freePort() } } }));
    return config;
  };

  it('loads the PostgreSQL client only when a receiver command runs: pg is a dynamic import, never a static one', () => {
    const pgImports = Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.path === 'pg'));
    expect(pgImports.length).toBeGreaterThan(0);
    expect(pgImports.map((i) => i.kind)).toEqual(pgImports.map(() => 'dynamic-import'));
  });

  it('carries its packages inside, minified, but for those that must stay on disk, and checks a config with them', () => {
    const external = Object.values(meta.outputs).flatMap((o) => o.imports.filter((i) => i.external && !isBuiltin(i.path)).map((i) => i.path));
    // The native addons, the two packages some commands load, and what ws and debug try and do without.
    expect([...new Set(external)].sort()).toEqual(['@serialport/bindings-cpp', 'aedes', 'bufferutil', 'classic-level', 'pg', 'supports-color', 'utf-8-validate']);
    const inputs = Object.values(meta.outputs).flatMap((o) => Object.entries(o.inputs).filter(([input]) => input.startsWith('node_modules/')));
    for (const name of ['zod', 'mqtt', 'modbus-serial', 'serialport', '@serialport/stream']) expect(inputs.filter(([input]) => input.includes(`node_modules/${name}/`)).length, name).toBeGreaterThan(0);
    // Of zod's locales only English, the one its messages use.
    expect(Object.values(meta.outputs).flatMap((o) => Object.keys(o.inputs)).filter((input) => input.startsWith('node_modules/zod/v4/locales/'))).toEqual(['node_modules/zod/v4/locales/en.js']);
    const inBundle = inputs.reduce((n, [, x]) => n + x.bytesInOutput, 0);
    // The metafile's input sizes are after the minifying load: the files' own are on disk.
    const source = inputs.reduce((n, [input]) => n + statSync(new URL(`../${input}`, import.meta.url)).size, 0);
    // As written, the packages are ~0.95 of their files in the bundle; minified ~0.6.
    expect(inBundle / source).toBeLessThan(0.8);
    const out = execFileSync(process.execPath, [file, 'validate', '--config', 'config/demo.json'], { cwd: new URL('..', import.meta.url), encoding: 'utf8' });
    expect(out).toMatch(/ok|valid/i);
  });

  it('logs readable lines on a terminal (pino-pretty, loaded by name) and JSON lines otherwise', async () => {
    const config = await gatewayConfig('log');
    const run = (onTerminal: boolean) => {
      const command = [process.execPath, file, 'run', '--config', config];
      // script(1) gives the gateway a pseudo-terminal for its stdout; timeout stops it once it has logged its start.
      const argv = onTerminal ? ['timeout', '-s', 'TERM', '4', 'script', '-qec', command.join(' '), '/dev/null'] : ['timeout', '-s', 'TERM', '4', ...command];
      return spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' }).stdout;
    };
    const pretty = run(true);
    expect(pretty).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*: .*journal opened/m);
    expect(pretty).not.toContain('{"level"');
    expect(run(false)).toMatch(/^\{"level":30,.*"msg":"journal opened"\}$/m);
  }, 30_000);

  it("keeps V8's code cache in COLDGATE_CODE_CACHE: made by a start, taken as it is by the next, made again when cut short, one per node flags, old bundles' removed", async () => {
    const cache = path.join(dir, 'code-cache');
    mkdirSync(cache);
    writeFileSync(path.join(cache, 'coldgate-0000000000000000-00000000.v8cache'), 'the cache of an older bundle');
    // 12 s: the entry writes the cache 10 s after a start.
    const run = async (name: string, flags: string[] = []) => {
      const config = await gatewayConfig(name);
      return new Promise<string>((resolve) =>
        execFile('timeout', ['-s', 'TERM', '12', process.execPath, ...flags, file, 'run', '--config', config], { env: { ...process.env, COLDGATE_CODE_CACHE: cache }, encoding: 'utf8' }, (_err, stdout) => resolve(stdout)),
      );
    };
    const whole = (data: Buffer) => createHash('sha256').update(data.subarray(32)).digest().equals(data.subarray(0, 32));
    expect(await run('cache-1')).toContain('"msg":"journal opened"');
    const made = readdirSync(cache);
    expect(made).toEqual([expect.stringMatching(/^coldgate-[0-9a-f]{16}-[0-9a-f]{8}\.v8cache$/)]);
    const cacheFile = path.join(cache, made[0]!);
    const first = statSync(cacheFile);
    expect([first.mode & 0o777, first.size > 100_000, whole(readFileSync(cacheFile))]).toEqual([0o600, true, true]);

    // V8 took it (a rejected cache is written again), and other node flags get a file of their own.
    const [same, other] = await Promise.all([run('cache-2'), run('cache-3', ['--max-old-space-size=200'])]);
    expect([same, other]).toEqual([expect.stringContaining('"msg":"journal opened"'), expect.stringContaining('"msg":"journal opened"')]);
    expect(statSync(cacheFile).mtimeMs).toBe(first.mtimeMs);
    expect(readdirSync(cache).length).toBe(2);

    const data = readFileSync(cacheFile);
    writeFileSync(cacheFile, data.subarray(0, data.length >> 1));
    expect(await run('cache-4')).toContain('"msg":"journal opened"');
    expect([statSync(cacheFile).size > 100_000, whole(readFileSync(cacheFile))]).toEqual([true, true]);
  }, 90_000);

  it('opens a serial port with the bundled serialport and its native binding: scan finds a pymodbus unit on a pseudo-terminal', async () => {
    const pty = new PtyPair(dir);
    await pty.plug();
    const slave = new PymodbusSlave({ serial: pty.b }, { 3: { ir: { 0: [215, 216] } } });
    await slave.start();
    try {
      const r = spawnSync(process.execPath, [file, 'scan', '--port', pty.a, '--ids', '3-3', '--timeout', '300', '--json'], { encoding: 'utf8' });
      expect([r.status, r.stderr]).toEqual([0, expect.stringContaining('1/1 ids asked, 1 found')]);
      expect((JSON.parse(r.stdout) as { found: { unit: number }[] }).found.map((f) => f.unit)).toEqual([3]);
    } finally {
      await slave.stop();
      await pty.unplug();
    }
  }, 30_000);
});
