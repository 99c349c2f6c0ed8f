import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createProbeDrivers, type ProbeDrivers } from '../drivers/modbus-probe/index.ts';
import { GatewayConfig } from '../src/config/schema.ts';
import { Clock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/log.ts';
import type { TemperatureDraft } from '../src/core/types.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { PtyPair } from './helpers/pty.ts';
import { tempDir } from './helpers/tmp.ts';
import { PymodbusSlave, type Transport } from './peers/pymodbus.ts';

const UNITS = { 1: { ir: { 0: [215] } } };

function run(bus: Record<string, unknown>) {
  const drafts: TemperatureDraft[] = [];
  const cfg = GatewayConfig.parse({ gatewayId: 'g', buses: [{ id: 'b', timeoutMs: 300, ...bus }], probes: [{ id: 'p', bus: 'b', unit: 1, address: 0, intervalMs: 200 }] });
  const drivers = createProbeDrivers(cfg, { sink: (d) => d.kind === 'temperature' && drafts.push(d), clock: new Clock(), log: silentLogger });
  const busHealth = () => drivers.health().find((h) => h.id === 'b')!;
  return { drafts, drivers, busHealth };
}

describe('reconnect without a restart', () => {
  const tmp = tempDir();
  let slave: PymodbusSlave | undefined;
  let drivers: ProbeDrivers | undefined;
  let pty: PtyPair | undefined;
  afterEach(async () => {
    await drivers?.stop();
    await slave?.stop();
    await pty?.unplug();
  });
  afterAll(() => tmp.cleanup());

  async function outageAndBack(transport: Transport, bus: Record<string, unknown>, cut: () => Promise<void>, restore: () => Promise<void>) {
    slave = new PymodbusSlave(transport, UNITS);
    await slave.start();
    const r = run(bus);
    drivers = r.drivers;
    await drivers.start();
    await waitFor(() => r.drafts.at(-1)?.value === 21.5, 5000, 'a first good reading');
    await cut();
    await waitFor(() => r.busHealth().state === 'offline', 5000, 'the bus to show offline');
    await waitFor(() => r.drafts.at(-1)?.quality === 'comms-error', 5000, 'the outage to reach the readings');
    expect(r.drafts.at(-1)!.value).toBeNull();
    await restore();
    // The restored slave reads 21.6: proof that the answers come from the new link, not a stale buffer.
    await waitFor(() => r.drafts.at(-1)?.value === 21.6, 15_000, 'good readings after the link came back');
    expect(r.busHealth()).toMatchObject({ state: 'ok', connects: 2, drops: 1 });
  }

  it('Modbus TCP: the server is restarted', async () => {
    const port = await freePort();
    await outageAndBack(
      { tcp: port },
      { type: 'tcp', host: '127.0.0.1', port },
      () => slave!.stop(),
      async () => {
        slave = new PymodbusSlave({ tcp: port }, { 1: { ir: { 0: [216] } } });
        await slave.start();
      },
    );
  });

  it('RTU: the pty pair is torn down and recreated', async () => {
    pty = new PtyPair(tmp.dir);
    await pty.plug();
    await outageAndBack(
      { serial: pty.b },
      { type: 'rtu', path: pty.a, baudRate: 9600 },
      async () => {
        await pty!.unplug();
        await slave!.stop();
      },
      async () => {
        await pty!.plug();
        slave = new PymodbusSlave({ serial: pty!.b }, { 1: { ir: { 0: [216] } } });
        await slave.start();
      },
    );
  });
});
