import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProbes, formatProbeChecks } from '../drivers/modbus-probe/check.ts';
import { scanCommand } from '../drivers/modbus-probe/cli-scan.ts';
import { ProbeConfig } from '../src/config/schema-modbus.ts';
import { GatewayConfig } from '../src/config/schema.ts';
import { silentLogger } from '../src/core/log.ts';
import { runCli } from './helpers/cli.ts';
import { freePort } from './helpers/net.ts';
import { PtyPair } from './helpers/pty.ts';
import { tempDir } from './helpers/tmp.ts';
import { PymodbusSlave } from './peers/pymodbus.ts';

const scan = (argv: string[]) => runCli(scanCommand, argv);

const UNITS = {
  3: { ir: { 0: [215, 216, 217, 218] }, hr: { 0: [1, 2, 3, 4] } },
  // Has holding registers only: its input read answers exception 02, which still proves it is there.
  5: { hr: { 0: [50, 51, 52, 53] } },
};

describe('coldgate scan and check', () => {
  const tmp = tempDir();
  const pty = new PtyPair(tmp.dir);
  let port: number;
  const slaves: PymodbusSlave[] = [];

  beforeAll(async () => {
    port = await freePort();
    await pty.plug();
    slaves.push(new PymodbusSlave({ tcp: port }, UNITS), new PymodbusSlave({ serial: pty.b }, UNITS));
    await Promise.all(slaves.map((s) => s.start()));
  });
  afterAll(async () => {
    await Promise.all(slaves.map((s) => s.stop()));
    await pty.unplug();
    tmp.cleanup();
  });

  it.each([
    { name: 'Modbus TCP', target: () => `tcp://127.0.0.1:${port}` },
    { name: 'RTU on a pty', target: () => pty.a },
  ])('scan finds the units on $name, says how long it takes and shows progress', async ({ target }) => {
    const r = await scan(['--port', target(), '--baud', '19200', '--ids', '1-6', '--timeout', '150', '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { found: { unit: number; input: unknown; holding: unknown }[] };
    expect(doc.found).toEqual([
      { unit: 3, input: { registers: [215, 216, 217, 218] }, holding: { registers: [1, 2, 3, 4] } },
      { unit: 5, input: { error: 'exception 02 illegal data address' }, holding: { registers: [50, 51, 52, 53] } },
    ]);
    expect(r.err).toMatch(/unit ids 1-6: up to 1 s \(150 ms for each id that does not answer\)/);
    expect(r.err).toMatch(/6\/6 ids asked, 2 found/);
  });

  it('scan prints a table without --json, exits 1 when nothing answers and 2 on bad usage', async () => {
    const table = await scan(['--port', `tcp://127.0.0.1:${port}`, '--ids', '3-3', '--timeout', '150']);
    expect(table.out).toMatch(/^unit {2}input registers 0-3 .*\n {3}3 {2}215 216 217 218 +1 2 3 4\n$/);
    const none = await scan(['--port', `tcp://127.0.0.1:${port}`, '--ids', '10-11', '--timeout', '100', '--json']);
    expect([none.code, JSON.parse(none.out).found]).toEqual([1, []]);
    expect(none.err).toMatch(/no unit answered/);
    const closed = await scan(['--port', `tcp://127.0.0.1:${await freePort()}`, '--ids', '1-2']);
    expect(closed.code).toBe(1);
    expect(closed.err).toMatch(/cannot open tcp:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    for (const argv of [[], ['--port'], ['--port', 'x', '--ids', '0-300'], ['--port', 'x', '--bogus']]) expect((await scan(argv)).code).toBe(2);
    expect((await scan(['--port', 'x', '--ids', '9-3'])).err).toMatch(/--ids must lie within 1-247, low to high\nusage: coldgate scan/);
  });

  it('check reads each probe once and says what to do about failures', async () => {
    const cfg = GatewayConfig.parse({
      gatewayId: 'g',
      buses: [
        { id: 'tcp', type: 'tcp', host: '127.0.0.1', port, timeoutMs: 200 },
        { id: 'gone', type: 'tcp', host: '127.0.0.1', port: await freePort(), timeoutMs: 200 },
      ],
      probes: [
        { id: 'good', bus: 'tcp', unit: 3, address: 1 },
        { id: 'holding', bus: 'tcp', unit: 5, address: 0, function: 3 },
        { id: 'noreg', bus: 'tcp', unit: 5, address: 0 },
        { id: 'silent', bus: 'tcp', unit: 9, address: 0 },
        { id: 'range', bus: 'tcp', unit: 3, address: 3, scale: 1 },
        { id: 'away', bus: 'gone', unit: 1, address: 0 },
      ],
    });
    const checks = await checkProbes(cfg, silentLogger);
    expect(checks.map((c) => [c.probe, c.quality, c.value])).toEqual([
      ['good', 'good', 21.6],
      ['holding', 'good', 5],
      ['noreg', 'comms-error', null],
      ['silent', 'comms-error', null],
      ['range', 'sensor-fault', null],
      ['away', 'comms-error', null],
    ]);
    const table = formatProbeChecks(checks);
    expect(table).toMatch(/^probe +bus +unit +register +reading\ngood +tcp +3 +4:1 +21\.6 °C\n/);
    expect(table).toMatch(/noreg .*comms error: exception 02 illegal data address\n +-> the device has no such register/);
    expect(table).toMatch(/silent .*comms error: timeout \(no answer in 200 ms\)\n +-> no answer: check the unit id/);
    expect(table).toMatch(/range .*sensor fault: out of range: 218 C outside \[-60, 120\]\n +-> the value makes no sense as a temperature/);
    expect(table).toMatch(/away .*comms error: bus not connected .*ECONNREFUSED.*\n +-> the bus is not open/);
    expect(table).toMatch(/4 of 6 probes failed$/);
    const [orphan] = await checkProbes({ buses: [], probes: [ProbeConfig.parse({ id: 'lost', bus: 'nope', unit: 1, address: 0 })] }, silentLogger);
    expect(orphan).toMatchObject({ quality: 'comms-error', error: 'probe lost: no bus with id "nope"' });
  });
});
