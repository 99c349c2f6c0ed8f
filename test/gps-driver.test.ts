import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createGpsDriver, type GpsDriver } from '../drivers/gps-nmea/index.ts';
import { GpsConfig } from '../src/config/schema-gps.ts';
import { Clock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/log.ts';
import type { PositionDraft, RecordDraft } from '../src/core/types.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { capture, drive, epochSentences, sentence } from './gps-nmea-gen.ts';
import { tempDir } from './helpers/tmp.ts';

/** A simulator's NMEA TCP feed: each connection gets the drive's epochs, one every `everyMs`. */
class NmeaFeed {
  readonly sockets = new Set<net.Socket>();
  private server: net.Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private next = 0;

  constructor(
    readonly port: number,
    private readonly lines: (i: number) => string[],
    private readonly everyMs = 50,
  ) {}

  async listen(): Promise<void> {
    const server = net.createServer((s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    });
    this.server = server;
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', () => r()));
    this.timer ??= setInterval(() => {
      const lines = this.lines(this.next++);
      if (lines.length === 0) return;
      for (const s of this.sockets) s.write(lines.join('\r\n') + '\r\n');
    }, this.everyMs);
  }

  /** Drops every client and stops accepting: the simulator went away. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => (this.server ? this.server.close(r) : r(undefined)));
    this.server = undefined;
  }

  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.close();
  }
}

const START = Date.UTC(2026, 2, 1, 8, 0, 0);

function setup(cfg: Partial<GpsConfig> & { source: string }, systemNow = () => 0) {
  const records: RecordDraft[] = [];
  const clock = new Clock(systemNow);
  const driver = createGpsDriver(GpsConfig.parse({ reconnectMaxMs: 200, ...cfg }), { sink: (r) => records.push(r), clock, log: silentLogger });
  const positions = () => records.filter((r): r is PositionDraft => r.kind === 'position');
  return { driver, clock, records, positions };
}

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function track(driver: GpsDriver, feed?: NmeaFeed) {
  cleanups.push(() => driver.stop());
  if (feed) cleanups.push(() => feed.shutdown());
}

describe('gps driver over tcp://', () => {
  it('turns an RMC+GGA feed into position samples stamped with GPS time, and sets the clock of a box booted in 1970', async () => {
    const port = await freePort();
    // Epochs 10-19 have no fix: they must never become positions.
    const epochs = drive({ startMs: START, epochs: 400, talker: 'GP', noFix: (i) => i >= 10 && i < 20 });
    const feed = new NmeaFeed(port, (i) => epochSentences(epochs[i % epochs.length]!).filter((s) => /RMC|GGA/.test(s)));
    await feed.listen();
    const { driver, clock, positions } = setup({ source: `tcp://127.0.0.1:${port}` });
    track(driver, feed);
    expect(clock.stamp().tq).toBe('unsynced');
    await driver.start();
    await waitFor(() => positions().length >= 15, 10_000, '15 positions');

    const got = positions();
    const times = got.map((p) => p.ts);
    expect(new Set(times).size).toBe(times.length);
    for (const p of got) {
      const i = (Date.parse(p.ts) - START) / 1000;
      const e = epochs[i]!;
      expect(e.fix, `epoch ${i} has no fix`).toBe(true);
      expect(p).toMatchObject({ kind: 'position', tq: 'gps', mode: 3 });
      expect(p.lat).toBeCloseTo(e.lat, 6);
      expect(p.lon).toBeCloseTo(e.lon, 6);
      expect(p.speed).toBeCloseTo(12, 2);
      expect(p.altMSL).toBeCloseTo(e.alt, 1);
    }
    // The no-fix stretch leaves a hole, not (0, 0) and not the last position.
    expect(times.some((t) => t === new Date(START + 15_000).toISOString())).toBe(false);
    expect(clock.stamp().tq).toBe('gps');
    expect(driver.health()).toMatchObject({ id: 'gps', kind: 'gps', state: 'ok', silent: false, stale: false, mode: 3 });
    expect(driver.latest()).toMatchObject({ kind: 'position', mode: 3 });
  });

  it('reports offline while the feed is gone and resumes when it is back, without a restart', async () => {
    const port = await freePort();
    const epochs = drive({ startMs: START, epochs: 2000 });
    const feed = new NmeaFeed(port, (i) => epochSentences(epochs[i % epochs.length]!));
    const { driver, positions } = setup({ source: `tcp://127.0.0.1:${port}` });
    track(driver, feed);
    // Nothing listens yet: start() must not throw, and the driver says offline.
    await driver.start();
    await waitFor(() => driver.health().state === 'offline', 5000, 'offline before the feed exists');
    expect(driver.health().detail).toMatch(/ECONNREFUSED/);

    await feed.listen();
    await waitFor(() => positions().length >= 3, 10_000, 'positions once the feed is up');
    await feed.close();
    await waitFor(() => driver.health().state === 'offline', 5000, 'offline after the feed closed');
    const before = positions().length;

    await feed.listen();
    await waitFor(() => positions().length >= before + 3, 10_000, 'positions again after reconnecting');
    expect(driver.health()).toMatchObject({ state: 'ok' });
    expect(driver.health().reconnects).toBeGreaterThanOrEqual(1);
  });

  it('samples once per parkedIntervalMs while parked, and every fix once moving', async () => {
    const port = await freePort();
    // 30 parked epochs, then moving at 12 m/s.
    const parked = drive({ startMs: START, epochs: 30, speed: 0 });
    const moving = drive({ startMs: START + 30_000, epochs: 2000, speed: 12 });
    const all = [...parked, ...moving];
    const feed = new NmeaFeed(port, (i) => epochSentences(all[Math.min(i, all.length - 1)]!), 20);
    await feed.listen();
    const { driver, positions } = setup({ source: `tcp://127.0.0.1:${port}`, parkedIntervalMs: 10_000, movingIntervalMs: 1000 });
    track(driver, feed);
    await driver.start();
    await waitFor(() => positions().some((p) => Date.parse(p.ts) >= START + 35_000), 10_000, 'moving samples');
    const seconds = positions().map((p) => (Date.parse(p.ts) - START) / 1000);
    const firstSeen = seconds[0]!;
    const parkedSamples = seconds.filter((s) => s < 30);
    // Parked: one sample per 10 s of GPS time from the first one seen (30 s parked: 2 or 3 of them).
    expect(parkedSamples.length).toBeGreaterThanOrEqual(2);
    expect(parkedSamples).toEqual(parkedSamples.map((_, k) => firstSeen + 10 * k));
    // Moving: the departure at once, then every epoch.
    const movingSamples = seconds.filter((s) => s >= 30 && s <= 35);
    expect(movingSamples).toEqual([30, 31, 32, 33, 34, 35]);
  });

  it('stops within a second and lets go of the connection', async () => {
    const port = await freePort();
    const epochs = drive({ startMs: START, epochs: 1000 });
    const feed = new NmeaFeed(port, (i) => epochSentences(epochs[i % epochs.length]!));
    await feed.listen();
    const { driver } = setup({ source: `tcp://127.0.0.1:${port}` });
    track(driver, feed);
    await driver.start();
    await waitFor(() => feed.sockets.size === 1, 5000, 'connected');
    const t0 = performance.now();
    await driver.stop();
    expect(performance.now() - t0).toBeLessThan(1000);
    await waitFor(() => feed.sockets.size === 0, 1000, 'socket released');
  });

  it('reports a silent feed and a stale fix as health', async () => {
    const port = await freePort();
    let talk = true;
    const noFix = sentence('GPRMC,,V,,,,,,,,,,N');
    const feed = new NmeaFeed(port, () => (talk ? [noFix] : []), 50);
    await feed.listen();
    const { driver } = setup({ source: `tcp://127.0.0.1:${port}`, silentAfterMs: 400, staleAfterMs: 600 });
    track(driver, feed);
    await driver.start();
    // Bytes but never a fix: stale, not silent.
    const stale = await waitFor(() => (driver.health().stale ? driver.health() : undefined), 5000, 'stale');
    expect(stale).toMatchObject({ state: 'degraded', silent: false, stale: true, mode: 1, detail: 'no valid fix' });
    talk = false;
    const silent = await waitFor(() => (driver.health().silent ? driver.health() : undefined), 5000, 'silent');
    expect(silent).toMatchObject({ state: 'degraded', silent: true, detail: 'no data from the receiver' });
    // A silent link is reopened (it may be a port gone without a close event), and it stays silent.
    await waitFor(() => Number(driver.health().reconnects) >= 1, 5000, 'silent link reopened');
    expect(driver.health()).toMatchObject({ silent: true });
    talk = true;
    await waitFor(() => driver.health().silent === false, 5000, 'talking again');
  });
});

describe('gps driver on a file replay', () => {
  it('replays a capture as fast as possible, then again from the start', async () => {
    const tmp = tempDir('coldgate-gpsfile-');
    cleanups.push(async () => tmp.cleanup());
    const file = path.join(tmp.dir, 'drive.nmea');
    writeFileSync(file, capture(drive({ startMs: START, epochs: 50, noFix: (i) => i >= 20 && i < 25 }), () => 'none').text);
    const { driver, positions } = setup({ source: `file:${file}`, replay: 'fast' });
    track(driver);
    await driver.start();
    // 45 fixes per pass; a second pass starts over at the first epoch.
    await waitFor(() => positions().length >= 50, 10_000, 'a second pass');
    const times = positions().map((p) => (Date.parse(p.ts) - START) / 1000);
    const pass = [...Array(50).keys()].filter((i) => i < 20 || i >= 25);
    expect(times.slice(0, 45)).toEqual(pass);
    expect(times.slice(45, 50)).toEqual(pass.slice(0, 5));
  });

  it('replays in real time, paced by the capture\'s own clock', async () => {
    const tmp = tempDir('coldgate-gpsfile-');
    cleanups.push(async () => tmp.cleanup());
    const file = path.join(tmp.dir, 'drive.nmea');
    writeFileSync(file, capture(drive({ startMs: START, epochs: 3 }), () => 'none').text);
    const { driver, positions } = setup({ source: `file:${file}` });
    track(driver);
    const t0 = performance.now();
    await driver.start();
    await waitFor(() => positions().length >= 3, 10_000, 'three epochs');
    // Three epochs a second apart: the third comes two seconds after the first.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(1900);
  });

  it("gives the decoder the capture's own bytes: CR CR LF lines are read, CR-only lines rejected, as gpsd does", async () => {
    const tmp = tempDir('coldgate-gpsfile-');
    cleanups.push(async () => tmp.cleanup());
    // Without the `# Date:` header: a comment runs to the next LF, so with CR-only lines it would swallow the file.
    const lines = capture(drive({ startMs: START, epochs: 10 }), () => 'none').text.split('\r\n').slice(1);
    const replay = async (eol: string) => {
      const file = path.join(tmp.dir, `drive-${eol.length}-${eol.charCodeAt(eol.length - 1)}.nmea`);
      writeFileSync(file, lines.join(eol));
      const { driver, positions } = setup({ source: `file:${file}`, replay: 'fast' });
      track(driver);
      await driver.start();
      await waitFor(() => Number(driver.health().reconnects) >= 1, 10_000, 'one pass of the capture');
      await driver.stop();
      return { positions: positions().length, errors: Number(driver.health().errors) };
    };
    // The Telit PLS83-W's line ends: every epoch a position.
    expect(await replay('\r\r\n')).toMatchObject({ positions: 10, errors: 0 });
    // CR alone never ends a sentence for gpsd: nothing is accepted, and it is counted.
    const crOnly = await replay('\r');
    expect(crOnly.positions).toBe(0);
    expect(crOnly.errors).toBe(50);
  });

  it('reports a missing capture as offline', async () => {
    const { driver } = setup({ source: 'file:/nonexistent/drive.nmea' });
    track(driver);
    await driver.start();
    await waitFor(() => driver.health().state === 'offline', 5000, 'offline');
    expect(driver.health().detail).toMatch(/ENOENT/);
  });
});

describe('gps config', () => {
  it('accepts the sample config in the driver folder', () => {
    const sample = JSON.parse(readFileSync(new URL('../drivers/gps-nmea/gps.sample.json', import.meta.url), 'utf8')) as { gps: unknown };
    expect(GpsConfig.parse(sample.gps)).toMatchObject({ source: '/dev/ttyACM0', replay: 'realtime' });
  });

  it.each(['tcp://host', 'ttyUSB0', 'http://x:1', ''])('rejects the source %j, saying what it expects', (source) => {
    const r = GpsConfig.safeParse({ source });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe('expected a serial device (/dev/ttyUSB0), tcp://host:port or file:PATH');
  });
});
