import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const VERSION = (JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
/** What the bundle loads (mqtt, modbus-serial, serialport's JS, pino and zod are inside it): the release's package.json has these and nothing else. */
const RUNTIME = ['@serialport/bindings-cpp', 'aedes', 'classic-level', 'pg', 'pino-pretty'];
const UNIT = path.join(REPO, 'scripts/systemd/coldgate.service');
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
// In CI the peer must be there (scripts/install-peers.sh installs it); elsewhere say why it is skipped.
const needAnalyze = hasAnalyze || process.env.CI === 'true';
if (!needAnalyze) console.warn('systemd-analyze is missing (Debian package systemd): the unit verification test is skipped');

function verify(unit: string) {
  return spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
}

/** Every file below `dir`, relative, node_modules left out. */
function files(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as { name: string; parentPath: string; isFile(): boolean }[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .filter((f) => !f.split(path.sep).includes('node_modules'));
}

/**
 * Runs the staged `coldgate` from outside the repository and lists the files node loaded (its
 * ESM and CommonJS debug logs), so the test sees which copy ran, not just that one did.
 */
function runStaged(prefixDir: string, args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [path.join(prefixDir, 'scripts/coldgate.mjs'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, NODE_DEBUG: 'esm,module' } });
  const esm = [...r.stderr.matchAll(/Storing (file:\/\/\S+)/g)].map((m) => fileURLToPath(m[1]!));
  const cjs = [...r.stderr.matchAll(/^MODULE \d+: load "(\/[^"]+)" for module/gm)].map((m) => m[1]!);
  const loaded = [...new Set([...esm, ...cjs])];
  // coldgate's own code (not its packages): the staged command and the staged bundle, no sources.
  const own = loaded.filter((f) => !f.split(path.sep).includes('node_modules')).sort();
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, loaded, own };
}
const stagedProgram = (prefixDir: string) => [path.join(prefixDir, 'dist/coldgate.mjs'), path.join(prefixDir, 'scripts/coldgate.mjs')];

describe('the systemd unit and scripts/install', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it.runIf(needAnalyze)('the unit passes systemd-analyze verify, and a broken copy does not', () => {
    const ok = verify(UNIT);
    expect([ok.status, ok.stderr]).toEqual([0, '']);
    const broken = path.join(tmp.dir, 'coldgate.service');
    writeFileSync(broken, readFileSync(UNIT, 'utf8').replace('Restart=always', 'Restart=sometimes').replace('/usr/bin/env node', 'node-not-absolute'));
    const bad = verify(broken);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/Failed to parse service restart specifier, ignoring: sometimes[\s\S]*Command node-not-absolute is not executable/);
  });

  it('the unit runs as its own user with a restart policy, a data folder and journald logging', () => {
    const unit = readFileSync(UNIT, 'utf8');
    for (const line of ['User=coldgate', 'SupplementaryGroups=dialout', 'Restart=always', 'StateDirectory=coldgate', 'CacheDirectory=coldgate', 'Environment=COLDGATE_DATA_DIR=/var/lib/coldgate', 'StandardOutput=journal', 'ReadWritePaths=/etc/coldgate', 'WantedBy=multi-user.target'])
      expect(unit.split('\n')).toContain(line);
  });

  it('stages the release tree, the unit, the settings file and a validated config; a second install keeps the old config', () => {
    const root = path.join(tmp.dir, 'root');
    const install = (config: string) => spawnSync('bash', ['scripts/install', '--root', root, '--prefix', '/srv/cg', '--no-deps', '--config', config], { cwd: REPO, encoding: 'utf8' });
    const first = path.join(tmp.dir, 'first.json');
    writeFileSync(first, JSON.stringify({ gatewayId: 'van-1' }));
    const r = install(first);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/release tree from the checkout[\s\S]*staged below/);
    const prefix = path.join(root, 'srv/cg');
    for (const f of ['dist/coldgate.mjs', 'scripts/coldgate.mjs', 'src/local/page.js', 'config/schema.json', 'package-lock.json', 'README.md']) expect(existsSync(path.join(prefix, f)), f).toBe(true);
    expect(existsSync(path.join(root, 'etc/default/coldgate'))).toBe(true);
    // What the box runs, not the sources, the tests or the dev tools.
    const staged = files(prefix);
    expect(staged.filter((f) => /\.ts$|^test\/|^drivers\//.test(f))).toEqual([]);
    const manifest = JSON.parse(readFileSync(path.join(prefix, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies?: unknown };
    expect([Object.keys(manifest.dependencies), manifest.devDependencies]).toEqual([RUNTIME, undefined]);
    expect(readlinkSync(path.join(root, 'usr/local/bin/coldgate'))).toBe('/srv/cg/scripts/coldgate.mjs');
    const unit = readFileSync(path.join(root, 'etc/systemd/system/coldgate.service'), 'utf8');
    // The service runs the prebuilt bundle, not the sources through tsx.
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/env node \/srv\/cg\/dist\/coldgate\.mjs run$/m);
    expect(readFileSync(path.join(prefix, 'dist/coldgate.cjs'), 'utf8')).toContain('journal opened');
    expect(unit).not.toMatch(/\/opt\/coldgate/);
    const installed = path.join(root, 'etc/coldgate/config.json');
    expect(statSync(installed).mode & 0o777).toBe(0o640);
    expect(statSync(path.join(root, 'etc/coldgate')).mode & 0o777).toBe(0o750);

    const second = path.join(tmp.dir, 'second.json');
    writeFileSync(second, JSON.stringify({ gatewayId: 'van-2' }));
    expect(install(second).status).toBe(0);
    expect(JSON.parse(readFileSync(installed, 'utf8')).gatewayId).toBe('van-2');
    expect(JSON.parse(readFileSync(`${installed}.prev`, 'utf8')).gatewayId).toBe('van-1');

    const bad = path.join(tmp.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ gatewayId: 'van 3' }));
    const refused = install(bad);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/gatewayId: expected an id[\s\S]*bad\.json is not valid \(see above\); nothing installed/);
    expect(JSON.parse(readFileSync(installed, 'utf8')).gatewayId).toBe('van-2');

    // --no-deps: the program folder has its production node_modules already (here: the checkout's).
    symlinkSync(path.join(REPO, 'node_modules'), path.join(prefix, 'node_modules'));
    const run = runStaged(realpathSync(prefix), ['validate', '--config', installed], tmp.dir);
    expect([run.status, run.stdout]).toEqual([0, `${installed}: valid (gateway van-2, 0 probes on 0 buses, gps off)\n`]);
    expect(run.own).toEqual(stagedProgram(realpathSync(prefix)).sort());
  });

  it('installs from the release tarball with no devDependencies, and the staged copy runs', () => {
    const out = path.join(tmp.dir, 'release');
    const made = spawnSync(process.execPath, ['scripts/release.mjs', '--out', out], { cwd: REPO, encoding: 'utf8' });
    expect([made.status, made.stderr]).toEqual([0, '']);
    expect(made.stdout).toContain(`runtime dependencies: ${RUNTIME.join(', ')}`);
    const unpacked = path.join(tmp.dir, 'unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['xzf', path.join(out, `coldgate-${VERSION}.tar.gz`), '-C', unpacked]);
    const tree = path.join(unpacked, `coldgate-${VERSION}`);
    expect(files(tree).sort()).toEqual(
      ['README.md', 'config/README.md', 'config/cold-store.json', 'config/demo-mosquitto.conf', 'config/demo.json', 'config/schema.json', 'config/truck.json', 'dist/coldgate.cjs', 'dist/coldgate.mjs', 'package-lock.json', 'package.json', 'scripts/coldgate.mjs', 'scripts/install', 'scripts/systemd/coldgate.service', 'src/local/page.css', 'src/local/page.html', 'src/local/page.js', 'src/receiver/sql/001_schema.sql'].sort(),
    );
    expect(statSync(path.join(tree, 'scripts/install')).mode & 0o111).toBe(0o111);

    const config = path.join(tmp.dir, 'van-t.json');
    writeFileSync(config, JSON.stringify({ gatewayId: 'van-t' }));
    const root = path.join(tmp.dir, 'from-tarball');
    // A real npm ci --omit=dev, from npm's cache (the checkout's own npm ci filled it): no network here.
    const r = spawnSync('bash', [path.join(tree, 'scripts/install'), '--root', root, '--prefix', '/srv/cg', '--config', config], {
      cwd: tmp.dir,
      encoding: 'utf8',
      env: { ...process.env, npm_config_offline: 'true' },
    });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/npm ci --omit=dev[\s\S]*staged below/);
    expect(r.stdout).not.toMatch(/release tree from the checkout/);
    const prefix = realpathSync(path.join(root, 'srv/cg'));
    for (const dev of ['tsx', 'esbuild', 'vitest', 'typescript', 'playwright-core']) expect(existsSync(path.join(prefix, 'node_modules', dev)), dev).toBe(false);
    for (const dep of RUNTIME) expect(existsSync(path.join(prefix, 'node_modules', dep)), dep).toBe(true);
    // The packages inside the bundle are not installed again.
    for (const inside of ['mqtt', 'modbus-serial', 'serialport', 'level', 'pino', 'zod']) expect(existsSync(path.join(prefix, 'node_modules', inside)), inside).toBe(false);

    const installed = path.join(root, 'etc/coldgate/config.json');
    const run = runStaged(prefix, ['validate', '--config', installed], tmp.dir);
    expect([run.status, run.stdout]).toEqual([0, `${installed}: valid (gateway van-t, 0 probes on 0 buses, gps off)\n`]);
    expect(run.own).toEqual(stagedProgram(prefix).sort());
    expect(run.loaded.filter((f) => !f.startsWith(`${prefix}${path.sep}`))).toEqual([]);
    // The packages left on disk come from the staged node_modules, none from the checkout: the journal's LevelDB binding here.
    const data = path.join(tmp.dir, 'no-journal');
    mkdirSync(data);
    const stats = runStaged(prefix, ['journal', 'stats', '--data', data], tmp.dir);
    expect([stats.status, stats.stderr]).toEqual([2, expect.stringContaining(`no journal in ${data}`)]);
    expect(stats.loaded).toContain(path.join(prefix, 'node_modules/classic-level/index.js'));
    expect(stats.loaded.filter((f) => !f.startsWith(`${prefix}${path.sep}`))).toEqual([]);
  }, 180_000);
});
