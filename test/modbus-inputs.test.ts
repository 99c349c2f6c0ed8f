import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createProbeDrivers } from '../drivers/modbus-probe/index.ts';
import { BusConfig, ProbeConfig } from '../src/config/schema-modbus.ts';
import { InputConfig } from '../src/config/schema-rules.ts';
import { Clock } from '../src/core/clock.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { PymodbusSlave } from './peers/pymodbus.ts';

let slave: PymodbusSlave;
let port: number;
beforeAll(async () => {
  port = await freePort();
  // Unit 2: a door contact on discrete input 0 and a normally-closed defrost relay on coil 3; unit 9 never answers.
  slave = new PymodbusSlave({ tcp: port }, { 1: { ir: { 0: [35] } }, 2: { di: { 0: [0] }, co: { 0: [0, 0, 0, 1] } } });
  await slave.start();
});
afterAll(() => slave.stop());

it('reports door and defrost inputs on change through the bus scheduler, between probe polls', async () => {
  const events: [string, boolean][] = [];
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const temps: number[] = [];
  const drivers = createProbeDrivers(
    {
      buses: [BusConfig.parse({ id: 'b', type: 'tcp', host: '127.0.0.1', port, timeoutMs: 200 })],
      probes: [ProbeConfig.parse({ id: 'p', bus: 'b', unit: 1, address: 0, intervalMs: 100 })],
      inputs: [
        InputConfig.parse({ id: 'door', bus: 'b', unit: 2, function: 2, address: 0, intervalMs: 100 }),
        InputConfig.parse({ id: 'defrost', bus: 'b', unit: 2, function: 1, address: 3, invert: true, intervalMs: 100 }),
        InputConfig.parse({ id: 'dead', bus: 'b', unit: 9, function: 2, address: 0, intervalMs: 100 }),
      ],
    },
    { sink: (d) => d.kind === 'temperature' && d.value !== null && temps.push(d.value), clock: new Clock(), log, onInput: (id, on) => events.push([id, on]) },
  );
  await drivers.start();
  try {
    await waitFor(() => events.length >= 2, 5000, 'first input reads');
    // The relay reads 1 but is normally closed: off. Each input is reported once, not on every poll.
    expect(events.sort()).toEqual([['defrost', false], ['door', false]]);
    await slave.set(2, 'di', 0, [1]);
    await waitFor(() => events.some(([id, on]) => id === 'door' && on), 5000, 'door open');
    await slave.set(2, 'di', 0, [0]);
    await waitFor(() => events.filter(([id]) => id === 'door').length === 3, 5000, 'door closed again');
    expect(events.filter(([id]) => id === 'door').map(([, on]) => on)).toEqual([false, true, false]);
    // The silent unit is never reported as closed or open, and says so once in the log.
    expect(events.some(([id]) => id === 'dead')).toBe(false);
    expect(logs.filter((l) => l.event === 'modbus.input.fault' && l.input === 'dead')).toHaveLength(1);
    // Probe polls go on beside the input reads.
    await waitFor(() => temps.length > 3, 5000, 'probe polls');
    expect(temps.every((t) => t === 3.5)).toBe(true);
  } finally {
    await drivers.stop();
  }
});
