/**
 * Polls per second for 32 probes on one Modbus TCP bus, coalesced reads against one read per probe,
 * in the same run against the same pymodbus slave (a separate process, so it does not share our event loop).
 * Intervals are set to 1 ms so the bus runs flat out: what is measured is capacity, not a configured rate.
 * Two slaves: one answering at once (loopback, the client's own cost) and one taking 10 ms per request,
 * roughly a Modbus TCP gateway with RS-485 at 19200 baud behind it, where request count is what costs.
 * Run: npx tsx scripts/bench-modbus.ts
 */
import { createProbeDrivers } from '../drivers/modbus-probe/index.ts';
import { BusConfig, ProbeConfig } from '../src/config/schema-modbus.ts';
import { Clock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/log.ts';
import { freePort } from '../test/helpers/net.ts';
import { PymodbusSlave } from '../test/peers/pymodbus.ts';

const WARMUP_MS = 1000;
const WINDOW_MS = 5000;

const LAYOUTS = {
  'one 32-channel unit': { units: 1, perUnit: 32 },
  '4 units x 8 channels': { units: 4, perUnit: 8 },
};

async function measure(port: number, layout: { units: number; perUnit: number }, coalesce: boolean) {
  const bus = BusConfig.parse({ id: 'bench', type: 'tcp', host: '127.0.0.1', port, coalesce });
  const probes = Array.from({ length: layout.units * layout.perUnit }, (_, i) => ({
    ...ProbeConfig.parse({ id: `p${i}`, bus: 'bench', unit: 1 + Math.floor(i / layout.perUnit), address: i % layout.perUnit }),
    intervalMs: 1,
  }));
  let good = 0;
  let counting = false;
  const drivers = createProbeDrivers({ buses: [bus], probes }, { sink: (d) => void (counting && d.kind === 'temperature' && d.quality === 'good' && good++), clock: new Clock(), log: silentLogger });
  await drivers.start();
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  const requestsBefore = Number(drivers.health().find((h) => h.id === 'bench')!.requests);
  counting = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  counting = false;
  const seconds = (performance.now() - t0) / 1000;
  const requests = Number(drivers.health().find((h) => h.id === 'bench')!.requests) - requestsBefore;
  await drivers.stop();
  return { pollsPerSecond: good / seconds, requestsPerSecond: requests / seconds };
}

const SLAVES = { loopback: 0, '10 ms per request': 0.01 };
const slaves: PymodbusSlave[] = [];
try {
  console.log(`32 probes on one Modbus TCP bus to pymodbus on 127.0.0.1, ${WINDOW_MS / 1000} s per run after ${WARMUP_MS / 1000} s warm-up\n`);
  console.log('slave               layout                 mode                 polls/s   requests/s   speed-up');
  for (const [slaveName, delay] of Object.entries(SLAVES)) {
    const port = await freePort();
    const slave = new PymodbusSlave({ tcp: port }, Object.fromEntries([1, 2, 3, 4].map((u) => [u, { ir: { 0: Array.from({ length: 32 }, (_, i) => 20 + i) }, delay }])));
    slaves.push(slave);
    await slave.start();
    for (const [name, layout] of Object.entries(LAYOUTS)) {
      const single = await measure(port, layout, false);
      const merged = await measure(port, layout, true);
      const row = (mode: string, r: typeof single, gain: string) =>
        console.log(`${slaveName.padEnd(19)} ${name.padEnd(22)} ${mode.padEnd(20)} ${r.pollsPerSecond.toFixed(0).padStart(7)}   ${r.requestsPerSecond.toFixed(0).padStart(10)}   ${gain}`);
      row('one read per probe', single, '');
      row('coalesced', merged, `${(merged.pollsPerSecond / single.pollsPerSecond).toFixed(1)}x`);
    }
  }
} finally {
  await Promise.all(slaves.map((s) => s.stop()));
}
