import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../drivers/modbus-probe/decode.ts';
import { createProbeDrivers, type ProbeDrivers } from '../drivers/modbus-probe/index.ts';
import type { RegisterType, WordOrder } from '../src/config/schema-modbus.ts';
import { GatewayConfig, type GatewayConfigInput } from '../src/config/schema.ts';
import { Clock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/log.ts';
import type { TemperatureDraft } from '../src/core/types.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { PtyPair } from './helpers/pty.ts';
import { tempDir } from './helpers/tmp.ts';
import { PymodbusSlave, type Transport } from './peers/pymodbus.ts';

/** Every type in every word order, each with its own scale and offset, two registers apart on unit 1. */
const TYPES: { type: RegisterType; raw: number; scale: number; offset: number; celsius: number }[] = [
  { type: 'int16', raw: -123, scale: 0.1, offset: 0, celsius: -12.3 },
  { type: 'uint16', raw: 65000, scale: 0.001, offset: -60, celsius: 5 },
  { type: 'int32', raw: -45678, scale: 0.001, offset: 0, celsius: -45.678 },
  { type: 'uint32', raw: 70000, scale: 0.0001, offset: 0, celsius: 7 },
  { type: 'float32', raw: -18.25, scale: 1, offset: 0.5, celsius: -17.75 },
];
const ORDERS: WordOrder[] = ['ABCD', 'CDAB', 'BADC', 'DCBA'];
const MATRIX = TYPES.flatMap((t, i) => ORDERS.map((order, j) => ({ ...t, order, id: `${t.type}-${order}`, address: (i * 4 + j) * 2 })));

type Expect = { value: number } | { quality: 'sensor-fault' | 'comms-error'; error: RegExp };
const EXPECTED: Record<string, Expect> = {
  ...Object.fromEntries(MATRIX.map((m) => [m.id, { value: m.celsius }])),
  'fault-7fff': { quality: 'sensor-fault', error: /probe fault-7fff \(bus b, unit 1, register 44\): sensor fault: fault value 0x7FFF/ },
  'status-bit': { quality: 'sensor-fault', error: /status register 1 bit 2 set/ },
  'status-ok': { value: 30 },
  'fahrenheit': { value: 5 },
  'ex02': { quality: 'comms-error', error: /probe ex02 \(bus b, unit 1, register 50\): exception 02 illegal data address/ },
  'ex04': { quality: 'comms-error', error: /exception 04 server device failure/ },
  'slow': { value: 12.3 },
  'too-slow': { quality: 'comms-error', error: /probe too-slow \(bus b, unit 3, register 0\): (timeout \(no answer in 400 ms\)|unit not answering)/ },
  'dead': { quality: 'comms-error', error: /probe dead \(bus b, unit 9, register 0\): (timeout \(no answer in 400 ms\)|unit not answering)/ },
};

function probes(): NonNullable<GatewayConfigInput['probes']> {
  const p = (id: string, fields: Record<string, unknown>) => ({ id, bus: 'b', unit: 1, address: 0, intervalMs: 300, ...fields });
  return [
    ...MATRIX.map((m) => p(m.id, { address: m.address, type: m.type, wordOrder: m.order, scale: m.scale, offset: m.offset })),
    p('fault-7fff', { address: 44 }),
    p('status-bit', { function: 3, address: 0, faultStatus: { address: 1, bit: 2 } }),
    p('status-ok', { function: 3, address: 2, faultStatus: { address: 3, bit: 2 } }),
    p('fahrenheit', { function: 3, address: 10, profile: 'int16-tenths-fahrenheit' }),
    p('ex02', { address: 50 }),
    p('ex04', { address: 60 }),
    p('slow', { unit: 2 }),
    p('too-slow', { unit: 3 }),
    p('dead', { unit: 9 }),
  ];
}

const UNITS = {
  1: {
    ir: { ...Object.fromEntries(MATRIX.map((m) => [m.address, encode(m.raw, m.type, m.order)])), 44: [0x7fff], 60: [0] },
    hr: { 0: [215, 0b100, 300, 0b011], 10: [410] },
    co: { 0: [0, 0, 0, 0, 0, 0, 0, 0] },
    fail: { ir: [60] },
  },
  2: { ir: { 0: [123] }, delay: 0.1 },
  // Answers, but after the 400 ms timeout: its late answers must not be taken for another unit's.
  3: { ir: { 0: [456] }, delay: 0.6 },
};

const TRANSPORTS: { name: string; setup: (dir: string) => Promise<{ transport: Transport; bus: Record<string, unknown>; pty?: PtyPair }> }[] = [
  { name: 'Modbus TCP', setup: async () => ((port) => ({ transport: { tcp: port }, bus: { type: 'tcp', host: '127.0.0.1', port } }))(await freePort()) },
  { name: 'RTU over TCP', setup: async () => ((port) => ({ transport: { rtuTcp: port }, bus: { type: 'rtu-tcp', host: '127.0.0.1', port } }))(await freePort()) },
  {
    name: 'RTU on a pty',
    setup: async (dir) => {
      const pty = new PtyPair(dir);
      await pty.plug();
      return { transport: { serial: pty.b }, bus: { type: 'rtu', path: pty.a, baudRate: 19200 }, pty };
    },
  },
];

describe.each(TRANSPORTS)('against pymodbus: $name', ({ setup }) => {
  const tmp = tempDir();
  let slave: PymodbusSlave;
  let pty: PtyPair | undefined;
  let drivers: ProbeDrivers;
  const latest = new Map<string, TemperatureDraft>();

  beforeAll(async () => {
    const s = await setup(tmp.dir);
    pty = s.pty;
    slave = new PymodbusSlave(s.transport, UNITS);
    await slave.start();
    const cfg = GatewayConfig.parse({ gatewayId: 'g', buses: [{ id: 'b', timeoutMs: 400, ...s.bus }], probes: probes() });
    drivers = createProbeDrivers(cfg, { sink: (d) => d.kind === 'temperature' && latest.set(d.probe, d), clock: new Clock(), log: silentLogger });
    await drivers.start();
    await waitFor(() => Object.keys(EXPECTED).every((id) => latest.has(id)), 15_000, 'a reading from every probe');
  });

  afterAll(async () => {
    await drivers?.stop();
    await slave?.stop();
    await pty?.unplug();
    tmp.cleanup();
  });

  it.each(Object.entries(EXPECTED))('%s', async (id, expected) => {
    const d = await waitFor(() => {
      const got = latest.get(id);
      const matches = got !== undefined && ('value' in expected ? got.quality === 'good' : got.quality === expected.quality);
      return matches ? got : undefined;
    }, 5000, `${id} to read as expected`);
    if ('value' in expected) expect(d.value).toBeCloseTo(expected.value, 6);
    else {
      expect(d.value).toBeNull();
      expect(d.error).toMatch(expected.error);
    }
  });

  it('reports health per probe and for the bus', () => {
    const h = new Map(drivers.health().map((x) => [x.id, x]));
    expect(h.get('int16-ABCD')).toMatchObject({ kind: 'probe', state: 'ok', lastValue: -12.3, bus: 'b', unit: 1 });
    expect(h.get('fault-7fff')).toMatchObject({ state: 'degraded', detail: 'sensor fault: fault value 0x7FFF' });
    expect(h.get('dead')!.state).toMatch(/degraded|offline/);
    expect(h.get('b')).toMatchObject({ kind: 'bus', connects: 1 });
  });

  it('writes a coil through the scheduler', async () => {
    await drivers.writeCoil('b', 1, 5, true);
    expect(await slave.get(1, 'co', 0, 8)).toEqual([0, 0, 0, 0, 0, 1, 0, 0]);
    await drivers.writeCoil('b', 1, 5, false);
    expect(await slave.get(1, 'co', 5, 1)).toEqual([0]);
    await expect(drivers.writeCoil('b', 9, 0, true)).rejects.toThrow(/coil write on bus b unit 9 address 0 failed: timeout/);
    await expect(drivers.writeCoil('nope', 1, 0, true)).rejects.toThrow(/no bus with id "nope"/);
  });
});
