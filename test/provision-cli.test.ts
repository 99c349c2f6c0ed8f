import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCommand } from '../src/cli/check.ts';
import { provisionCommand } from '../src/cli/provision.ts';
import { loadConfig } from '../src/config/load.ts';
import { runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';
import { BoxPeers } from './provision-peers.ts';

const run = runCli;

describe('coldgate provision (non-interactive) and check, against a pymodbus bus and a GPS on ptys', () => {
  const tmp = tempDir();
  const peers = new BoxPeers(tmp.dir);
  const file = path.join(tmp.dir, 'etc', 'config.json');
  const answersFile = path.join(tmp.dir, 'answers.json');

  beforeAll(() => peers.start());
  afterAll(async () => {
    await peers.stop();
    tmp.cleanup();
  });

  it('writes a config from an answers file that validates and whose check is all green', async () => {
    writeFileSync(
      answersFile,
      JSON.stringify({
        gatewayId: 'van-0042',
        dataDir: path.join(tmp.dir, 'data'),
        broker: { url: peers.mosquitto.url, username: 'van-0042', password: 'pw' },
        buses: [{ port: peers.bus.a, baudRate: 19200, ids: '1-6', scanTimeoutMs: 150 }],
        compartments: [{ id: 'front', preset: 'chilled' }, { id: 'rear', preset: 'frozen' }],
        gps: { port: peers.gps.a },
        pin: '1357',
      }),
    );
    const r = await run(provisionCommand, ['--answers', answersFile, '--config', file]);
    expect(r.err).toMatch(/6\/6 ids asked, 4 found/);
    expect(r.out).toMatch(/^wrote .*config\.json: gateway van-0042, 4 probes on 1 buses, 2 compartments, gps .*gps-a\n/);
    expect(r.out).toMatch(/probe front-1 +rtu:.*rs485-a@19200 unit 1 reg 4:0 +OK +4\.1 °C\n/);
    expect(r.out).toMatch(/probe rear-2 .* OK +-19 °C\n/);
    expect(r.out).toMatch(/\ngps .* OK +NMEA, 2D fix at 52\.52000, 13\.40500|\ngps .* OK +NMEA, 3D fix at 52\.52000, 13\.40500/);
    expect(r.out).toMatch(/\nbroker .* OK +connected \(MQTT 5\)/);
    expect(r.out).toMatch(/all 7 devices OK\n$/);
    expect(r.code).toBe(0);

    const { config } = loadConfig(file, {});
    expect(config.probes.map((p) => [p.id, p.unit, p.compartment])).toEqual([
      ['front-1', 1, 'front'],
      ['front-2', 2, 'front'],
      ['rear-1', 3, 'rear'],
      ['rear-2', 4, 'rear'],
    ]);
    expect(config.buses).toMatchObject([{ id: 'bus1', type: 'rtu', path: peers.bus.a, baudRate: 19200 }]);
    expect(config.local).toMatchObject({ pin: '1357', http: { host: '0.0.0.0', port: 8080 } });
    expect(JSON.parse(readFileSync(file, 'utf8')).$schema).toBe(path.relative(path.dirname(file), path.resolve('config/schema.json')));

    const check = await run(checkCommand, ['--config', file, '--json']);
    expect(check.code).toBe(0);
    const doc = JSON.parse(check.out) as { ok: boolean; devices: { kind: string; id: string; ok: boolean; value?: number }[] };
    expect(doc.ok).toBe(true);
    expect(doc.devices.map((d) => `${d.kind}:${d.id}:${d.ok}`)).toEqual(['probe:front-1:true', 'probe:front-2:true', 'probe:rear-1:true', 'probe:rear-2:true', 'gps:gps:true', 'broker:broker:true', 'storage:data:true']);
  });

  it('provisions again from flags, keeping the previous config as a backup', async () => {
    const first = readFileSync(file, 'utf8');
    const r = await run(provisionCommand, ['--non-interactive', '--config', file, '--gateway-id', 'van-0042', '--broker', peers.mosquitto.url, '--bus', `${peers.bus.a}@19200`, '--ids', '1-4', '--compartment', 'cargo=atp-poultry@1,3', '--gps', 'none', '--data-dir', path.join(tmp.dir, 'data'), '--no-check']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/gps none; the previous config is kept as .*config\.json\.prev\n$/);
    expect(readFileSync(`${file}.prev`, 'utf8')).toBe(first);
    const { config } = loadConfig(file, {});
    expect(config.probes.map((p) => `${p.id}@${p.unit}:${p.compartment ?? '-'}`)).toEqual(['cargo-1@1:cargo', 'bus1-u2@2:-', 'cargo-2@3:cargo', 'bus1-u4@4:-']);
    expect(config.compartments).toMatchObject([{ id: 'cargo', name: 'Cargo', preset: 'atp-poultry' }]);
    expect(config.gps).toBeUndefined();
  });

  it('writes nothing and names the field when an answer is wrong', async () => {
    const before = readFileSync(file, 'utf8');
    const base = ['--non-interactive', '--config', file, '--gateway-id', 'van-0042', '--broker', peers.mosquitto.url, '--no-check'];
    const ghost = await run(provisionCommand, [...base, '--bus', peers.bus.a, '--ids', '1-4', '--compartment', 'cargo=chilled@9']);
    expect([ghost.code, ghost.err]).toEqual([2, expect.stringMatching(/4\/4 ids asked, 4 found\nprovision: compartments\[0\]\.probes\[0\]: unit 9 did not answer the scan \(found: bus1:1, bus1:2, bus1:3, bus1:4\)\nprovision: nothing written\n$/)]);
    const noPort = await run(provisionCommand, [...base, '--bus', path.join(tmp.dir, 'ttyUSB9')]);
    expect(noPort.err).toMatch(/\nprovision: buses\[0\]\.port: cannot scan .*ttyUSB9: cannot open rtu:.*ttyUSB9@9600/);
    const badAnswers = await run(provisionCommand, [...base, '--pin', '12', '--ca', '/nonexistent/ca.pem']);
    expect(badAnswers.err).toMatch(/provision: the flags: pin: expected a PIN of 4 to 8 digits, received \(redacted\)/);
    const noCa = await run(provisionCommand, [...base, '--ca', '/nonexistent/ca.pem']);
    expect(noCa.err).toMatch(/provision: broker\.ca: \/nonexistent\/ca\.pem: no such file/);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('check goes red with the reason and what to do, and exits 1', async () => {
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.probes.push({ id: 'ghost', bus: 'bus1', unit: 9, address: 0 });
    doc.gps = { source: path.join(tmp.dir, 'ttyACM7') };
    doc.uplink.url = 'mqtt://127.0.0.1:1';
    const bad = path.join(tmp.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify(doc));
    const table = await run(checkCommand, ['--config', bad]);
    expect(table.code).toBe(1);
    expect(table.out).toMatch(/probe ghost .* FAIL +comms error: timeout \(no answer in 1000 ms\)\n +-> no answer: check the unit id/);
    expect(table.out).toMatch(/\ngps +.*ttyACM7 +FAIL +port unavailable.*\n +-> check gps\.source/);
    expect(table.out).toMatch(/\nbroker +mqtt:\/\/127\.0\.0\.1:1 +FAIL +connect ECONNREFUSED.*\n +-> check uplink\.url/);
    expect(table.out).toMatch(/3 of 8 devices FAIL\n$/);
    const json = await run(checkCommand, ['--config', bad, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out).devices.filter((d: { ok: boolean }) => !d.ok).map((d: { id: string; hint?: string }) => [d.id, typeof d.hint])).toEqual([
      ['ghost', 'string'],
      ['gps', 'string'],
      ['broker', 'string'],
    ]);
  });
});
