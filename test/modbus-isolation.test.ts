import { afterAll, expect, it } from 'vitest';
import { createProbeDrivers, type ProbeDrivers } from '../drivers/modbus-probe/index.ts';
import { GatewayConfig } from '../src/config/schema.ts';
import { Clock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/log.ts';
import { waitFor } from './helpers/net.ts';
import { PtyPair } from './helpers/pty.ts';
import { tempDir } from './helpers/tmp.ts';
import { PymodbusSlave } from './peers/pymodbus.ts';

const INTERVAL_MS = 250;
const WINDOW_MS = 8000;
const DEAD = 8;

const tmp = tempDir();
const pty = new PtyPair(tmp.dir);
let slave: PymodbusSlave | undefined;
let drivers: ProbeDrivers | undefined;

afterAll(async () => {
  await drivers?.stop();
  await slave?.stop();
  await pty.unplug();
  tmp.cleanup();
});

it('8 probes on one RTU bus, one slave dead: the other seven keep their poll rate within 10%', async () => {
  await pty.plug();
  // Units 1..7 answer; unit 8 is on the config but not on the bus.
  slave = new PymodbusSlave({ serial: pty.b }, Object.fromEntries([1, 2, 3, 4, 5, 6, 7].map((u) => [u, { ir: { 0: [u * 10] } }])));
  await slave.start();
  const cfg = GatewayConfig.parse({
    gatewayId: 'g',
    buses: [{ id: 'rs485', type: 'rtu', path: pty.a, baudRate: 19200, timeoutMs: 200 }],
    probes: [1, 2, 3, 4, 5, 6, 7, 8].map((u) => ({ id: `u${u}`, bus: 'rs485', unit: u, address: 0, intervalMs: INTERVAL_MS })),
  });
  const good = new Map<string, number[]>();
  const attempts: number[] = [];
  drivers = createProbeDrivers(cfg, {
    sink: (d) => {
      if (d.kind !== 'temperature') return;
      if (d.quality === 'good') good.set(d.probe, [...(good.get(d.probe) ?? []), performance.now()]);
      if (d.probe === `u${DEAD}` && /: timeout \(no answer/.test(d.error ?? '')) attempts.push(performance.now());
    },
    clock: new Clock(),
    log: silentLogger,
  });
  await drivers.start();
  // Past the dead slave's first timeouts, into its backoff.
  await waitFor(() => (drivers!.health().find((h) => h.id === 'rs485')!.backingOff as number[]).includes(DEAD), 5000, 'unit 8 backed off');
  const from = performance.now();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const to = performance.now();

  const expected = 1000 / INTERVAL_MS;
  const rates = Object.fromEntries([1, 2, 3, 4, 5, 6, 7].map((u) => [`u${u}`, ((good.get(`u${u}`) ?? []).filter((t) => t >= from && t < to).length * 1000) / (to - from)]));
  const deadTries = attempts.filter((t) => t >= from && t < to).length;
  console.log(`isolation: expected ${expected}/s per probe; measured over ${Math.round(to - from)} ms: ${JSON.stringify(Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, Number(v.toFixed(2))])))}; dead unit 8 asked ${deadTries} times`);
  for (const rate of Object.values(rates)) {
    expect(rate).toBeGreaterThanOrEqual(expected * 0.9);
    expect(rate).toBeLessThanOrEqual(expected * 1.1);
  }
  // Backoff, not a timeout every cycle: 32 cycles in the window, the dead slave asked a handful of times.
  expect(deadTries).toBeLessThanOrEqual(4);
  expect(drivers.health().find((h) => h.id === `u${DEAD}`)).toMatchObject({ state: 'offline' });
});
