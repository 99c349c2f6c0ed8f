import { closeSync, openSync, writeSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createGpsDriver } from '../drivers/gps-nmea/index.ts';
import { GpsConfig } from '../src/config/schema-gps.ts';
import { Clock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/log.ts';
import type { PositionDraft, RecordDraft } from '../src/core/types.ts';
import { waitFor } from './helpers/net.ts';
import { PtyPair } from './helpers/pty.ts';
import { tempDir } from './helpers/tmp.ts';
import { drive, epochSentences } from './gps-nmea-gen.ts';

/**
 * The driver on real pseudo-terminals (socat): the receiver writes to one end, the driver
 * reads the other through serialport, as on /dev/ttyUSB0.
 */
const START = Date.UTC(2026, 4, 10, 6, 0, 0);

let cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup() {
  const tmp = tempDir('coldgate-gps-');
  const pty = new PtyPair(tmp.dir, 'gps');
  await pty.plug();
  const records: RecordDraft[] = [];
  const driver = createGpsDriver(GpsConfig.parse({ source: pty.a, baudRate: 9600, reconnectMaxMs: 300 }), {
    sink: (r) => records.push(r),
    clock: new Clock(),
    log: silentLogger,
  });
  let fd: number | undefined;
  const receiver = {
    open: () => (fd = openSync(pty.b, 'w')),
    write: (bytes: string | Buffer) => writeSync(fd!, typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes),
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
  cleanups.push(tmp.cleanup, () => pty.unplug(), () => receiver.close(), () => driver.stop());
  const positions = () => records.filter((r): r is PositionDraft => r.kind === 'position');
  return { pty, driver, receiver, positions };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('gps driver on a serial port (pty)', () => {
  it('reads fragments, CRLF and LF lines, and skips garbage from power-up', async () => {
    const { driver, receiver, positions } = await setup();
    await driver.start();
    await waitFor(() => driver.health().online, 5000, 'port open');
    receiver.open();
    // Power-up noise: binary junk, a half sentence, no newline before the first real one.
    receiver.write(Buffer.from([0x00, 0xff, 0x13, 0x80, 0x24, 0x47, 0x50, 0x52, 0x4d, 0x43, 0x2c, 0x31, 0xfe]));
    const epochs = drive({ startMs: START, epochs: 12, speed: 8, talker: 'GN' });
    for (const [i, e] of epochs.entries()) {
      const eol = i % 2 === 0 ? '\r\n' : '\n';
      const text = epochSentences(e).join(eol) + eol;
      // Cut every epoch into odd-sized fragments, as a USB adapter delivers them.
      for (let at = 0; at < text.length; at += 7 + (i % 5)) {
        receiver.write(text.slice(at, at + 7 + (i % 5)));
        if (at % 3 === 0) await pause(1);
      }
    }
    await waitFor(() => positions().length >= 11, 5000, 'positions from every epoch');
    const got = positions();
    expect(got.map((p) => p.ts)).toEqual(epochs.slice(0, got.length).map((e) => new Date(e.timeMs).toISOString()));
    for (const [i, p] of got.entries()) {
      expect(p.lat).toBeCloseTo(epochs[i]!.lat, 6);
      expect(p.lon).toBeCloseTo(epochs[i]!.lon, 6);
      expect(p).toMatchObject({ mode: 3, tq: 'gps' });
    }
    // The junk before the first sentence start is noise; the cut "$GPRMC,1" is one rejected sentence.
    expect(driver.health()).toMatchObject({ state: 'ok', errors: 1 });
  });

  it('survives an unplug: reports offline, retries, and carries on after the replug', async () => {
    const { pty, driver, receiver, positions } = await setup();
    const epochs = drive({ startMs: START, epochs: 100, speed: 10 });
    let next = 0;
    const send = (n: number) => {
      for (let k = 0; k < n; k++) receiver.write(epochSentences(epochs[next++]!).join('\r\n') + '\r\n');
    };
    await driver.start();
    await waitFor(() => driver.health().online, 5000, 'port open');
    receiver.open();
    send(3);
    await waitFor(() => positions().length >= 2, 5000, 'positions before the unplug');

    receiver.close();
    await pty.unplug();
    await waitFor(() => driver.health().state === 'offline', 5000, 'offline after the unplug');
    expect(driver.health().detail).toMatch(/port unavailable/);
    const before = positions().length;
    // While unplugged the driver keeps trying; nothing is emitted.
    await pause(400);
    expect(positions().length).toBe(before);

    await pty.plug();
    await waitFor(() => driver.health().online, 5000, 'reopened after the replug');
    receiver.open();
    send(4);
    await waitFor(() => positions().length >= before + 3, 5000, 'positions after the replug');
    expect(driver.health()).toMatchObject({ state: 'ok' });
    expect(Number(driver.health().reconnects)).toBeGreaterThanOrEqual(1);
    const times = positions().map((p) => Date.parse(p.ts));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('starts with the port absent, reports offline, and opens it once it appears', async () => {
    const tmp = tempDir('coldgate-gps-');
    cleanups.push(tmp.cleanup);
    const pty = new PtyPair(tmp.dir, 'late');
    const driver = createGpsDriver(GpsConfig.parse({ source: pty.a, reconnectMaxMs: 200 }), { sink: () => undefined, clock: new Clock(), log: silentLogger });
    cleanups.push(() => pty.unplug(), () => driver.stop());
    await driver.start();
    await waitFor(() => driver.health().state === 'offline', 5000, 'offline with no port');
    await pty.plug();
    await waitFor(() => driver.health().online, 5000, 'open once the port exists');
    const t0 = performance.now();
    await driver.stop();
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
