import { SerialPort } from 'serialport';
import { afterAll, expect, it } from 'vitest';
import { createProbeDrivers, type ProbeDrivers } from '../drivers/modbus-probe/index.ts';
import { GatewayConfig } from '../src/config/schema.ts';
import { Clock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/log.ts';
import type { TemperatureDraft } from '../src/core/types.ts';
import { waitFor } from './helpers/net.ts';
import { PtyPair } from './helpers/pty.ts';
import { tempDir } from './helpers/tmp.ts';

/** Modbus RTU CRC-16 (polynomial 0xA001, initial 0xFFFF), sent low byte first. */
function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

const tmp = tempDir();
const pty = new PtyPair(tmp.dir);
let device: SerialPort | undefined;
let drivers: ProbeDrivers | undefined;

afterAll(async () => {
  await drivers?.stop();
  await new Promise((r) => (device?.isOpen ? device.close(r) : r(undefined)));
  await pty.unplug();
  tmp.cleanup();
});

it('a CRC error from noise on the line is a comms error, not a value, and costs the slave no backoff', async () => {
  await pty.plug();
  // A slave whose answers are garbled on every other request: 21.5 with a good or a broken CRC.
  device = new SerialPort({ path: pty.b, baudRate: 9600 });
  let n = 0;
  let pending = 0;
  device.on('data', (chunk: Buffer) => {
    // A read request is 8 bytes; answer once per whole request however the pty splits it.
    pending += chunk.length;
    if (pending < 8) return;
    pending -= 8;
    const frame = Buffer.from([1, 4, 2, 0x00, 0xd7, 0, 0]);
    frame.writeUInt16LE(crc16(frame.subarray(0, 5)) ^ (n++ % 2 === 0 ? 0x0101 : 0), 5);
    device!.write(frame);
  });
  const cfg = GatewayConfig.parse({
    gatewayId: 'g',
    buses: [{ id: 'line', type: 'rtu', path: pty.a, timeoutMs: 300 }],
    probes: [{ id: 'p', bus: 'line', unit: 1, address: 0, intervalMs: 100 }],
  });
  const drafts: TemperatureDraft[] = [];
  drivers = createProbeDrivers(cfg, { sink: (d) => d.kind === 'temperature' && drafts.push(d), clock: new Clock(), log: silentLogger });
  await drivers.start();
  await waitFor(() => drafts.length >= 8, 10_000, 'eight polls');
  const bad = drafts.filter((d) => d.quality !== 'good');
  expect(bad.length).toBeGreaterThanOrEqual(3);
  for (const d of bad) expect(d).toMatchObject({ quality: 'comms-error', value: null, error: 'probe p (bus line, unit 1, register 0): CRC error (garbled answer)' });
  const good = drafts.filter((d) => d.quality === 'good');
  expect(good.length).toBeGreaterThanOrEqual(3);
  expect(good.map((d) => d.value)).toEqual(good.map(() => 21.5));
  const h = drivers.health();
  expect(h.find((x) => x.id === 'line')).toMatchObject({ backingOff: [], timeouts: 0 });
  expect((h.find((x) => x.id === 'p')!.counts as Record<string, number>).crc).toBe(bad.length);
});
