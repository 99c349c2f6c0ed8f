import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.ts';
import { silentLogger } from '../src/core/log.ts';
import { startManagedGateway, type Supervisor } from '../src/remote/index.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort } from './helpers/net.ts';
import { CommandClient } from './helpers/remote.ts';
import { tempDir } from './helpers/tmp.ts';
import { PymodbusSlave } from './peers/pymodbus.ts';

describe('remote management over MQTT 5 commands (mosquitto, pymodbus over Modbus TCP)', () => {
  const tmp = tempDir();
  const file = path.join(tmp.dir, 'config.json');
  let mosquitto: Mosquitto;
  let slave: PymodbusSlave;
  let modbusPort: number;
  let gateway: Supervisor;
  let ops: CommandClient;
  let env: NodeJS.ProcessEnv;

  const goodConfig = () => ({
    gatewayId: 'van-a',
    dataDir: './data',
    uplink: { protocolVersion: 5, password: 's3cret', username: 'van-a' },
    buses: [{ id: 'b', type: 'tcp', host: '127.0.0.1', port: modbusPort, timeoutMs: 300 }],
    probes: [{ id: 'p1', bus: 'b', unit: 1, address: 0, intervalMs: 500, compartment: 'chiller' }],
    compartments: [{ id: 'chiller', name: 'Chiller', preset: 'chilled' }],
    local: { http: { port: 0 }, pin: '2468' },
  });

  const command = (...args: Parameters<CommandClient['send']>) => ops.send(...args);

  beforeAll(async () => {
    const brokerPort = await freePort();
    modbusPort = await freePort();
    mosquitto = new Mosquitto({ port: brokerPort, dir: path.join(tmp.dir, 'mosquitto') });
    slave = new PymodbusSlave({ tcp: modbusPort }, { 1: { ir: { 0: [41, 42] } } });
    await Promise.all([mosquitto.start(), slave.start()]);
    env = { COLDGATE_MQTT_URL: mosquitto.url };
    writeFileSync(file, JSON.stringify(goodConfig(), null, 2));
    gateway = await startManagedGateway({ file, loaded: loadConfig(file, env), log: silentLogger, env });
    ops = await CommandClient.connect(mosquitto.url, 'ops-test');
    // The gateway subscribes once connected; ping until it answers.
    for (let i = 0; i < 50 && !(await command('ping', {}, { waitMs: 200 })); i++);
  });

  afterAll(async () => {
    await ops?.end();
    await gateway?.stop();
    await Promise.all([slave?.stop(), mosquitto?.stop()]);
    tmp.cleanup();
  });

  it('answers ping and status with versions, uptime, journal stats and device health', async () => {
    expect(await command('ping', {})).toMatchObject({ ok: true, command: 'ping', gatewayId: 'van-a', pong: expect.any(String) });
    const status = (await command('status', {}))!;
    expect(status).toMatchObject({ ok: true, versions: { coldgate: expect.any(String), node: process.versions.node, config: expect.stringMatching(/^[0-9a-f]{12}$/) }, configFile: file, openAlarms: 0 });
    expect(status.journal).toMatchObject({ incarnation: expect.stringMatching(/^[0-9a-f]{16}$/), nextSeq: expect.any(Number), lanes: { telemetry: expect.any(Object), events: expect.any(Object) } });
    const devices = status.devices as { id: string; kind: string; state: string }[];
    expect(devices.find((d) => d.kind === 'uplink')?.state).toBe('ok');
    expect(devices.find((d) => d.id === 'p1')?.state).toBe('ok');
  });

  it('answers garbage, unknown commands and bad bodies with an error, and keeps working', async () => {
    expect(await command('ping', '{not json')).toMatchObject({ ok: false, error: expect.stringMatching(/^payload is not valid JSON at line 1, column 2: /) });
    expect(await command('reboot', {})).toMatchObject({ ok: false, error: expect.stringMatching(/unknown command "reboot" \(known: ping, status, get-config, set-config, ack-alarm, start-trip, end-trip, get-trip, replay\)/) });
    const bad = (await command('ack-alarm', { alarmId: 7, extra: true }))!;
    expect(bad).toMatchObject({ ok: false, error: 'bad ack-alarm body' });
    expect(bad.problems).toEqual(expect.arrayContaining([expect.stringMatching(/^alarmId: expected string/), expect.stringMatching(/^by: /), expect.stringMatching(/^\(root\): unknown key "extra"/)]));
    expect(await command('ack-alarm', { alarmId: 'nope', by: 'ops' })).toMatchObject({ ok: false, error: 'no open alarm "nope" to acknowledge (open: none)' });
    expect(await command('ping', [])).toMatchObject({ ok: false, problems: [expect.stringMatching(/^\(root\): expected object/)] });
    expect(await command('ping', {})).toMatchObject({ ok: true });
  });

  it('replies on a 3.1.1 broker through replyTo and correlationId in the body', async () => {
    await ops.client.publishAsync('coldgate/v1/van-a/cmd/ping', JSON.stringify({ replyTo: 'coldgate/v1/van-a/reply/v311', correlationId: 'abc' }), { qos: 1 });
    await expect.poll(() => ops.on('coldgate/v1/van-a/reply/v311')[0], { timeout: 5000 }).toMatchObject({ ok: true, command: 'ping', correlationId: 'abc' });
  });

  it('ignores a command on another gateway\'s topic', async () => {
    expect(await command('start-trip', { by: 'intruder' }, { gatewayId: 'van-b', waitMs: 1500 })).toBeUndefined();
    expect(await command('start-trip', { by: 'intruder' }, { gatewayId: 'van-a/cmd/x', waitMs: 500 })).toBeUndefined();
    expect(gateway.current().gateway.rules.snapshot().trip).toBeUndefined();
    const started = (await command('start-trip', { by: 'ops' }))!;
    expect(started).toMatchObject({ ok: true, trip: { startedBy: 'remote:ops' } });
    expect(await command('end-trip', { by: 'ops' })).toMatchObject({ ok: true, report: expect.any(Object) });
    expect(await command('end-trip', { by: 'ops' })).toMatchObject({ ok: false, error: 'no trip is running' });
  });

  it('get-config returns the file without its secrets; set-config keeps them when left unchanged', async () => {
    const got = (await command('get-config', {}))!;
    expect(got).toMatchObject({ ok: true, file, overrides: ['COLDGATE_MQTT_URL'] });
    const config = got.config as ReturnType<typeof goodConfig>;
    expect([config.uplink.password, config.local.pin]).toEqual(['(unchanged)', '(unchanged)']);
    config.probes.push({ id: 'p2', bus: 'b', unit: 1, address: 1, intervalMs: 500, compartment: 'chiller' });
    const applied = (await command('set-config', { config, deadlineMs: 10_000, by: 'ops' }))!;
    expect(applied).toMatchObject({ ok: true, outcome: 'applied', file, previous: `${file}.prev` });
    const written = JSON.parse(readFileSync(file, 'utf8')) as ReturnType<typeof goodConfig>;
    expect(written.probes.map((p) => p.id)).toEqual(['p1', 'p2']);
    expect([written.uplink.password, written.local.pin]).toEqual(['s3cret', '2468']);
    expect(JSON.parse(readFileSync(`${file}.prev`, 'utf8'))).toEqual(goodConfig());
    const devices = (await command('status', {}))!.devices as { id: string; state: string; lastValue?: number }[];
    expect(devices.find((d) => d.id === 'p2')).toMatchObject({ state: 'ok', lastValue: 4.2 });
  });

  it('refuses an invalid config with every problem in the reply and changes nothing', async () => {
    const before = readFileSync(file, 'utf8');
    const config = { ...goodConfig(), probes: [{ id: 'p1', bus: 'nope', unit: 1, address: 0, compartment: 'chiller' }], local: { pin: '24a8' } };
    const refused = (await command('set-config', { config, by: 'ops' }))!;
    expect(refused).toMatchObject({ ok: false, error: 'refused: the config is not valid or not allowed remotely; nothing changed' });
    // A near-miss PIN is as good as the PIN: the reply (on the broker, in the cloud's logs) never carries it.
    expect(refused.problems).toEqual(expect.arrayContaining(['local.pin: expected a PIN of 4 to 8 digits, received (redacted)', expect.stringMatching(/^probes\[0\]\.bus: no bus with id "nope"/)]));
    expect(JSON.stringify(refused)).not.toContain('24a8');
    expect((await command('set-config', { config: { ...goodConfig(), gatewayId: 'van-z' }, by: 'ops' }))!.problems).toEqual([expect.stringMatching(/^gatewayId: stays "van-a"/)]);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('rolls back a config whose devices do not answer, and runs the previous one again', async () => {
    const before = readFileSync(file, 'utf8');
    const config = { ...goodConfig(), probes: [{ id: 'ghost', bus: 'b', unit: 9, address: 0, intervalMs: 500, compartment: 'chiller' }] };
    const started = Date.now();
    const reply = (await command('set-config', { config, deadlineMs: 2000, by: 'ops' }))!;
    expect(reply).toMatchObject({ ok: false, outcome: 'rolled-back', rejected: `${file}.rejected` });
    expect(reply.error).toMatch(/^rolled back: the new config did not come up within 2000 ms; the previous config runs again/);
    expect(reply.problems).toEqual([expect.stringMatching(/^probe ghost: .*timeout/)]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(JSON.parse(readFileSync(`${file}.rejected`, 'utf8')).probes[0].id).toBe('ghost');
    const devices = (await command('status', {}))!.devices as { id: string; state: string }[];
    expect(devices.filter((d) => d.id.startsWith('p')).map((d) => d.id)).toEqual(['p1', 'p2']);
    await expect.poll(() => gateway.current().gateway.health().find((d) => d.id === 'p2')?.state, { timeout: 5000 }).toBe('ok');
    expect(existsSync(`${file}.prev`)).toBe(true);
  });
});
