import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.ts';

const UNIT = path.resolve('scripts/systemd/coldgate.service');
const hasAnalyze = spawnSync('systemd-analyze', ['--version']).status === 0;
// In CI the peer must be there (scripts/install-peers.sh installs it); elsewhere say why it is skipped.
const needAnalyze = hasAnalyze || process.env.CI === 'true';
if (!needAnalyze) console.warn('systemd-analyze is missing (Debian package systemd): the unit verification test is skipped');

function verify(unit: string) {
  return spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' });
}

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
    for (const line of ['User=coldgate', 'SupplementaryGroups=dialout', 'Restart=always', 'StateDirectory=coldgate', 'Environment=COLDGATE_DATA_DIR=/var/lib/coldgate', 'StandardOutput=journal', 'ReadWritePaths=/etc/coldgate', 'WantedBy=multi-user.target'])
      expect(unit.split('\n')).toContain(line);
  });

  it('stages the program, the unit, the settings file and a validated config; a second install keeps the old config', () => {
    const root = path.join(tmp.dir, 'root');
    const install = (config: string) => spawnSync('bash', ['scripts/install', '--root', root, '--prefix', '/srv/cg', '--no-deps', '--config', config], { encoding: 'utf8' });
    const first = path.join(tmp.dir, 'first.json');
    writeFileSync(first, JSON.stringify({ gatewayId: 'van-1' }));
    const r = install(first);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/staged below/);
    for (const f of ['srv/cg/src/cli/coldgate.ts', 'srv/cg/drivers/modbus-probe/index.ts', 'srv/cg/config/schema.json', 'srv/cg/package-lock.json', 'etc/default/coldgate']) expect(existsSync(path.join(root, f)), f).toBe(true);
    expect(existsSync(path.join(root, 'srv/cg/test'))).toBe(false);
    expect(readlinkSync(path.join(root, 'usr/local/bin/coldgate'))).toBe('/srv/cg/scripts/coldgate.mjs');
    const unit = readFileSync(path.join(root, 'etc/systemd/system/coldgate.service'), 'utf8');
    // The service runs the bundle built at install time, not the sources through tsx.
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/env node \/srv\/cg\/dist\/coldgate\.mjs run$/m);
    expect(readFileSync(path.join(root, 'srv/cg/dist/coldgate.mjs'), 'utf8')).toContain('journal opened');
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
    // The staged program runs: its own validate accepts the installed config.
    execFileSync(process.execPath, [path.resolve('scripts/coldgate.mjs'), 'validate', '--config', installed]);
  });
});
