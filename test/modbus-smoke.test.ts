import { afterEach, describe, expect, it } from 'vitest';
import { createProbeDrivers, type ProbeDrivers } from '../drivers/modbus-probe/index.ts';
import { GatewayConfig } from '../src/config/schema.ts';
import { Clock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/log.ts';
import type { RecordDraft, TemperatureDraft } from '../src/core/types.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { PymodbusSlave } from './peers/pymodbus.ts';

describe('modbus smoke', () => {
  let slave: PymodbusSlave | undefined;
  let drivers: ProbeDrivers | undefined;
  afterEach(async () => {
    await drivers?.stop();
    await slave?.stop();
  });

  it('polls int16 tenths over Modbus TCP', async () => {
    const port = await freePort();
    slave = new PymodbusSlave({ tcp: port }, { 1: { ir: { 0: [215, 0xff38, 0x7fff, 40] } } });
    await slave.start();
    const cfg = GatewayConfig.parse({
      gatewayId: 'g',
      buses: [{ id: 'b1', type: 'tcp', host: '127.0.0.1', port, timeoutMs: 300 }],
      probes: [0, 1, 2, 3].map((a) => ({ id: `p${a}`, bus: 'b1', unit: 1, address: a, intervalMs: 200 })),
    });
    const got: TemperatureDraft[] = [];
    drivers = createProbeDrivers(cfg, { sink: (d: RecordDraft) => d.kind === 'temperature' && got.push(d), clock: new Clock(), log: silentLogger });
    await drivers.start();
    await waitFor(() => got.length >= 8);
    expect(got.slice(0, 4).map((d) => d.value)).toEqual([21.5, -20, null, 4]);
  });
});
