import ModbusSerial from 'modbus-serial';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createProbeDrivers, type ProbeDrivers } from '../drivers/modbus-probe/index.ts';
import { BusConfig, ProbeConfig } from '../src/config/schema-modbus.ts';
import { Clock } from '../src/core/clock.ts';
import type { TemperatureDraft } from '../src/core/types.ts';
import { freePort, waitFor } from './helpers/net.ts';

type Server = InstanceType<typeof ModbusSerial.ServerTCP>;

/**
 * Like the demo simulator: a modbus-serial ServerTCP, unit 1, input registers 0..3 in tenths of a degree.
 * ServerTCP answers exception 04 for a negative register value, hence the mask to 16 bits.
 */
async function demoServer(port: number, tenths: number[]): Promise<Server> {
  const server = new ModbusSerial.ServerTCP({ getInputRegister: (addr: number) => (tenths[addr] ?? 0) & 0xffff }, { host: '127.0.0.1', port, unitID: 1 });
  await new Promise<void>((resolve, reject) => {
    server.on('initialized', () => resolve());
    server.on('socketError', reject);
  });
  return server;
}

function setup(port: number, probes: Record<string, unknown>[], bus: Record<string, unknown> = {}, clock = new Clock()) {
  const drafts: TemperatureDraft[] = [];
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const cfg = {
    buses: [BusConfig.parse({ id: 'cab', type: 'tcp', host: '127.0.0.1', port, timeoutMs: 300, ...bus })],
    probes: probes.map((p) => ProbeConfig.parse({ bus: 'cab', unit: 1, intervalMs: 200, ...p })),
  };
  const drivers = createProbeDrivers(cfg, { sink: (d) => d.kind === 'temperature' && drafts.push(d), clock, log });
  return { drafts, drivers, logs };
}

describe('createProbeDrivers', () => {
  let server: Server | undefined;
  let drivers: ProbeDrivers | undefined;
  afterEach(async () => {
    await drivers?.stop();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    server = undefined;
  });

  it('reads the demo simulator: drafts carry probe, compartment, °C, quality and a clock stamp', async () => {
    const port = await freePort();
    server = await demoServer(port, [35, -182, 41, -195]);
    const s = setup(port, [0, 1, 2, 3].map((a) => ({ id: `t${a}`, address: a, compartment: a < 2 ? 'chiller' : 'freezer' })));
    drivers = s.drivers;
    await drivers.start();
    await waitFor(() => s.drafts.length >= 4);
    expect(s.drafts.slice(0, 4)).toEqual([
      { kind: 'temperature', ts: expect.stringMatching(/^20\d\d-.*Z$/), tq: 'system', probe: 't0', compartment: 'chiller', value: 3.5, quality: 'good' },
      expect.objectContaining({ probe: 't1', compartment: 'chiller', value: -18.2, quality: 'good' }),
      expect.objectContaining({ probe: 't2', compartment: 'freezer', value: 4.1 }),
      expect.objectContaining({ probe: 't3', value: -19.5 }),
    ]);
    const health = drivers.health();
    expect(health.map((h) => [h.id, h.kind, h.state])).toEqual([
      ['t0', 'probe', 'ok'],
      ['t1', 'probe', 'ok'],
      ['t2', 'probe', 'ok'],
      ['t3', 'probe', 'ok'],
      ['cab', 'bus', 'ok'],
    ]);
  });

  it('stamps the readings of one coalesced read once: their registers came in one reply', async () => {
    const port = await freePort();
    server = await demoServer(port, [35, -182, 41, -195]);
    // Each look at the clock is a millisecond later, so a stamp per reading would show.
    let reads = 0;
    const clock = new Clock(() => Date.UTC(2026, 5, 1) + reads++, () => performance.now());
    const s = setup(port, [0, 1, 2, 3].map((a) => ({ id: `t${a}`, address: a })), {}, clock);
    drivers = s.drivers;
    await drivers.start();
    await waitFor(() => s.drafts.length >= 8);
    await drivers.stop();
    drivers = undefined;
    const polls = s.drafts.length / 4;
    expect(Number.isInteger(polls)).toBe(true);
    for (let i = 0; i < s.drafts.length; i += 4) expect(new Set(s.drafts.slice(i, i + 4).map((d) => d.ts)).size).toBe(1);
    // One stamp a poll, and polls a few milliseconds of clock apart.
    expect(new Set(s.drafts.map((d) => d.ts)).size).toBe(polls);
    expect(reads).toBe(polls);
  });

  it('starts with the device absent, reports it, and picks it up when it appears', async () => {
    const port = await freePort();
    const s = setup(port, [{ id: 'late', address: 0 }]);
    drivers = s.drivers;
    await drivers.start();
    const first = await waitFor(() => s.drafts[0]);
    expect(first).toMatchObject({ probe: 'late', value: null, quality: 'comms-error', error: expect.stringMatching(/^probe late \(bus cab, unit 1, register 0\): bus not connected/) });
    expect(drivers.health().find((h) => h.id === 'cab')).toMatchObject({ state: 'offline', detail: expect.stringMatching(/ECONNREFUSED/) });
    server = await demoServer(port, [12]);
    await waitFor(() => s.drafts.at(-1)?.quality === 'good', 10_000, 'a good reading after the device appeared');
    expect(s.drafts.at(-1)!.value).toBe(1.2);
    // Many failed polls and connection attempts, but one line per change of state.
    expect(s.drafts.filter((d) => d.quality === 'comms-error').length).toBeGreaterThan(1);
    const events = s.logs.filter((l) => l.level as number >= 30).map((l) => l.event);
    expect(events).toEqual(['modbus.bus.down', 'modbus.probe.fault', 'modbus.bus.reconnected', 'modbus.probe.recovered']);
    expect(s.logs.find((l) => l.event === 'modbus.probe.fault')).toMatchObject({ level: 40, driver: 'modbus-probe', probe: 'late', bus: 'cab', unit: 1, msg: expect.stringMatching(/^probe late \(bus cab, unit 1, register 0\): bus not connected/) });
  });

  it('stops within 1 s while a request to a silent unit is in flight', async () => {
    const port = await freePort();
    server = await demoServer(port, [12]);
    const s = setup(port, [{ id: 'ghost', unit: 7, address: 0 }], { timeoutMs: 10_000 });
    drivers = s.drivers;
    await drivers.start();
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    await drivers.stop();
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
