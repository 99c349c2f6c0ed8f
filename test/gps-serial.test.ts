import { closeSync, openSync, writeSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createGpsDriver } from '../drivers/gps-nmea/index.ts';
import { GpsConfig } from '../src/config/schema-gps.ts';
import { Clock } from '../src/core/clock.ts';
import { pino } from 'pino';
import { parseConfig } from '../src/config/load.ts';
import { silentLogger, type Logger } from '../src/core/log.ts';
import { createRulesEngine, memoryRulesStore } from '../src/rules/index.ts';
import type { PositionDraft, RecordDraft } from '../src/core/types.ts';
import { waitFor } from './helpers/net.ts';
import { PtyPair } from './helpers/pty.ts';
import { tempDir } from './helpers/tmp.ts';
import { drive, epochSentences, sentence } from './gps-nmea-gen.ts';

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

async function setup(opts: { clock?: Clock; cfg?: Partial<GpsConfig>; log?: Logger } = {}) {
  const tmp = tempDir('coldgate-gps-');
  const pty = new PtyPair(tmp.dir, 'gps');
  await pty.plug();
  const records: RecordDraft[] = [];
  const driver = createGpsDriver(GpsConfig.parse({ source: pty.a, baudRate: 9600, reconnectMaxMs: 300, ...opts.cfg }), {
    sink: (r) => records.push(r),
    clock: opts.clock ?? new Clock(),
    log: opts.log ?? silentLogger,
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

  it('ignores one checksummed GGA 3 h ahead: the clock, the records and the rules stay on real time; a consistent step is adopted', async () => {
    // A box booted in 1970: GPS is its only clock. A 10 Hz receiver, so GPS time steps as the monotonic clock does.
    const STEP = 100;
    const clock = new Clock(() => 0);
    const logs: Record<string, unknown>[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
    const { driver, receiver, positions } = await setup({ clock, log, cfg: { movingIntervalMs: 1 } });
    const { config } = parseConfig({ gatewayId: 'van-1', buses: [{ id: 'b', type: 'tcp', host: '127.0.0.1' }] }, 'test.json');
    const rules = createRulesEngine(config, { emit: () => undefined, store: memoryRulesStore(), clock, log: silentLogger });
    await rules.start();
    cleanups.push(() => rules.stop());
    // What a probe would be stamped with, and what the display would show, all along.
    const seen: { stamp: number; snapshot: number; mono: number }[] = [];
    const watch = setInterval(() => seen.push({ stamp: Date.parse(clock.stamp().ts), snapshot: Date.parse(rules.snapshot().at), mono: performance.now() }), 5);
    cleanups.push(() => clearInterval(watch));

    const epochs = drive({ startMs: START, epochs: 60, stepMs: STEP, speed: 10 });
    const HOUR = 3_600_000;
    const SPOOF_AT = 15;
    const STEP_AT = 35;
    // From STEP_AT on, the receiver's time is an hour later, consistently: a genuine step (say, a wrong almanac put right).
    const sent = epochs.map((e, i) => (i >= STEP_AT ? { ...e, timeMs: e.timeMs + HOUR } : e));
    const spoofTime = new Date(sent[SPOOF_AT]!.timeMs + 3 * HOUR).toISOString().slice(11, 19).replace(/:/g, '');
    const spoof = sentence(`GPGGA,${spoofTime}.00,5900.00000,N,01101.00000,E,1,08,1.01,120.0,M,47.0,M,,`);
    await driver.start();
    await waitFor(() => driver.health().online, 5000, 'port open');
    receiver.open();
    const t0 = performance.now();
    const sentAt: number[] = [];
    for (const [i, e] of sent.entries()) {
      await pause(Math.max(0, t0 + i * STEP - performance.now()));
      sentAt.push(performance.now());
      receiver.write(epochSentences(e).join('\r\n') + '\r\n');
      if (i === SPOOF_AT) receiver.write(spoof + '\r\n');
    }
    await waitFor(() => positions().length >= sent.length + 1, 5000, 'a position from every epoch and the spoofed one');
    clearInterval(watch);

    // GPS time on the monotonic clock, as the receiver says it: before the step, and after it.
    const truth = (mono: number, stepped: boolean) => START + (stepped ? HOUR : 0) + (mono - sentAt[0]!);
    const adoptedAt = sentAt[STEP_AT + 2]! + 60;
    for (const s of seen) {
      // Before the step is adopted, real time; after, the receiver's new time. Never 3 h ahead.
      const expected = truth(s.mono, s.mono > adoptedAt);
      if (Math.abs(s.mono - adoptedAt) < 300 || s.mono < sentAt[2]! + 200) continue;
      expect(Math.abs(s.stamp - expected), `clock at +${Math.round(s.mono - t0)} ms`).toBeLessThan(1000);
      expect(Math.abs(s.snapshot - expected), `rules snapshot at +${Math.round(s.mono - t0)} ms`).toBeLessThan(1000);
    }
    expect(seen.filter((s) => s.mono > adoptedAt + 300).length).toBeGreaterThan(10);

    const got = positions();
    // Every position is on the receiver's real time line; none 3 h ahead.
    for (const p of got) expect(Date.parse(p.ts) - START, p.ts).toBeLessThan(HOUR + 60 * STEP + 2000);
    const spoofed = got.filter((p) => Math.abs(p.lat - 59) < 1e-9);
    expect(spoofed).toHaveLength(1);
    // Stamped by the clock instead: the real time of its arrival, within an epoch or two.
    expect(Math.abs(Date.parse(spoofed[0]!.ts) - sent[SPOOF_AT]!.timeMs)).toBeLessThan(3 * STEP);
    // The first two fixes of the step are rejected too (stamped by the clock), the third is adopted and carries its own time.
    const stepped = got.filter((p) => Date.parse(p.ts) >= START + HOUR).map((p) => Date.parse(p.ts) - START - HOUR);
    expect(stepped[0]).toBe((STEP_AT + 2) * STEP);
    expect(driver.health()).toMatchObject({ timeRejected: 3 });
    const rejected = logs.filter((l) => l.event === 'gps.time_rejected');
    expect(rejected.map((l) => l.level)).toEqual([40, 20, 20]);
    expect(Number(rejected[0]!.offByMs)).toBeGreaterThan(3 * HOUR - 1000);
    expect(logs.filter((l) => l.event === 'gps.time_step')).toHaveLength(1);
  });
});
