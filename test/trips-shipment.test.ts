import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkCommand } from '../src/cli/check.ts';
import { tripsExportCommand, tripsShowCommand } from '../src/cli/trips.ts';
import { parseConfig } from '../src/config/load.ts';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { silentLogger } from '../src/core/log.ts';
import { Journal } from '../src/journal/journal.ts';
import { journalRulesStore } from '../src/rules/index.ts';
import { calibrationStatus } from '../src/trips/calibration.ts';
import { renderTripReportHtml } from '../src/trips/report-html.ts';
import { gs1CheckDigit, ShipmentRefs } from '../src/trips/shipment.ts';
import type { TripReport } from '../src/trips/trip.ts';
import { runCli } from './helpers/cli.ts';
import { PIN, postFrom, startTestDisplay } from './helpers/display-server.ts';
import { freePort } from './helpers/net.ts';
import { tempDir } from './helpers/tmp.ts';
import { tripBench, tripConfig } from './helpers/trips.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { PymodbusSlave } from './peers/pymodbus.ts';
import { BUS, harness, probe, T0 } from './rules-harness.ts';

const SHIPMENT = { billOfLading: 'CMR 2026/0042', order: 'PO-7781', sscc: ['106141412345678908'], lots: ['L2603-A', 'L2603-B'] };
const DAY = 86_400_000;

let cleanups: (() => unknown)[] = [];
afterEach(async () => {
  // Last made, first gone: the peers stop before their folder is removed.
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});
const tmp = () => {
  const t = tempDir('coldgate-shipment-');
  cleanups.push(t.cleanup);
  return t.dir;
};
const refused = (input: unknown) => {
  const r = ShipmentRefs.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('shipment references: what a trip is for', () => {
  it('takes SSCCs with a right GS1 check digit and bounded plain references; refuses the rest, saying which field and why', () => {
    expect(gs1CheckDigit('10614141234567890')).toBe(8);
    expect(ShipmentRefs.parse(SHIPMENT)).toEqual(SHIPMENT);
    expect(refused({ sscc: ['106141412345678907'] })).toEqual(['sscc.0: SSCC 106141412345678907: wrong check digit (expected 8): retype it from the label']);
    expect(refused({ sscc: ['(00)106141412345678908'] })).toEqual([expect.stringMatching(/^sscc\.0: expected an SSCC: 18 digits/)]);
    expect(refused({ billOfLading: '<script>alert(1)</script>' })).toEqual([expect.stringMatching(/^billOfLading: expected 1-64 letters, digits/)]);
    expect(refused({ order: 'x'.repeat(65) })).toHaveLength(1);
    expect(refused({ lots: ['L1\nL2'] })).toEqual([expect.stringMatching(/^lots\.0: expected a lot code/)]);
    expect(refused({ lots: Array.from({ length: 21 }, (_, i) => `L${i}`) })).toEqual([expect.stringMatching(/^lots: /)]);
    expect(refused({ order: 'PO-1', carrier: 'x' })).toEqual([expect.stringMatching(/carrier/)]);
    expect(refused({ sscc: 'not-a-list' })).toHaveLength(1);
  });

  it('the rules keep them with the trip across a restart (LevelDB state), in trip.started with who started it, and in the report', async () => {
    const dir = tmp();
    const cfg = { probes: [probe('p1', 'c1')], compartments: [{ id: 'c1', name: 'Chiller', preset: 'chilled' }] };
    const openDb = () => Journal.open(dir, JournalConfig.parse({ commitIntervalMs: 5 }), silentLogger);
    let db = await openDb();
    const first = await harness(cfg, { store: journalRulesStore(db) });
    const trip = first.engine.startTrip('remote:dispatch', SHIPMENT);
    expect(trip).toMatchObject({ startedBy: 'remote:dispatch', shipment: SHIPMENT });
    expect(first.of('trip.started').map((x) => x.e.data)).toEqual([{ tripId: trip.id, by: 'remote:dispatch', shipment: SHIPMENT }]);
    // A second start returns the running trip as it is.
    expect(first.engine.startTrip('bob', { order: 'PO-other' })).toEqual(trip);
    await first.engine.stop();
    await db.close();
    db = await openDb();
    const second = await harness(cfg, { store: journalRulesStore(db), startSec: 60 });
    expect(second.engine.snapshot().trip).toMatchObject({ id: trip.id, shipment: SHIPMENT });
    expect(second.engine.endTrip('anna')!.shipment).toEqual(SHIPMENT);
    await second.engine.stop();
    await db.close();
  });

  it('the display API takes them with the PIN at trip start and refuses bad ones with a 400 naming the field, starting nothing', async () => {
    const d = await startTestDisplay();
    try {
      const bad = await postFrom(d.base, 'api/trip/start', { pin: PIN, shipment: { sscc: ['106141412345678907'] } });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ error: expect.stringMatching(/shipment\.sscc\[0\]|shipment.*sscc/), details: [{ path: 'shipment.sscc.0', message: expect.stringMatching(/wrong check digit/) }] });
      expect(d.engine.snapshot().trip).toBeUndefined();
      const started = await postFrom(d.base, 'api/trip/start', { pin: PIN, by: 'anna', shipment: SHIPMENT });
      expect(started).toMatchObject({ status: 201, body: { started: true, trip: { startedBy: 'anna (display)', shipment: SHIPMENT } } });
      const again = await postFrom(d.base, 'api/trip/start', { pin: PIN, shipment: { order: 'PO-2' } });
      expect(again).toMatchObject({ status: 200, body: { started: false, message: expect.stringMatching(/references sent were not taken/) } });
      const ended = await postFrom(d.base, 'api/trip/end', { pin: PIN });
      expect((ended.body as { report: TripReport }).report.shipment).toEqual(SHIPMENT);
    } finally {
      await d.close();
    }
  });

  it('appear in trips show, the CSV (four columns on every row), and the printable report', async () => {
    const dir = tmp();
    const b = await tripBench(tripConfig(dir, 2), T0);
    const trip = b.start();
    b.feed(1, 60);
    const calibration = calibrationStatus([{ id: 'p0', compartment: 'chiller', calibration: { certificate: 'DAkkS-9', calibratedAt: '2025-01-10', accuracyC: 0.2 } }, { id: 'p1' }], 365, b.now);
    await b.end(trip, { shipment: SHIPMENT, calibration });
    await b.recorder.close();
    const show = await runCli(tripsShowCommand, [trip.id, '--data', dir]);
    expect(show.out).toContain('  shipment: BoL CMR 2026/0042, order PO-7781, SSCC 106141412345678908, lots L2603-A L2603-B\n');
    // The archive keeps the calibration as it was when the trip ended.
    expect(show.out).toContain('  calibration p0: 2025-01-10 (415 days before the end), +/- 0.2 C, certificate DAkkS-9  WARNING: probe p0: calibrated 2025-01-10, 415 days ago');
    expect(JSON.parse((await runCli(tripsShowCommand, [trip.id, '--data', dir, '--json'])).out).report.shipment).toEqual(SHIPMENT);
    const out = path.join(dir, 'trip.csv');
    expect((await runCli(tripsExportCommand, [trip.id, '--format', 'csv', '--data', dir, '--out', out])).code).toBe(0);
    const py = 'import csv,sys,json; rows=list(csv.reader(open(sys.argv[1], newline=""))); print(json.dumps({"n": len(rows), "head": rows[0][9:], "refs": sorted(set(tuple(r[9:]) for r in rows[1:]))}))';
    expect(JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, out]).toString())).toEqual({
      n: 1 + 2 * 60,
      head: ['bill_of_lading', 'order', 'sscc', 'lots'],
      refs: [['CMR 2026/0042', 'PO-7781', '106141412345678908', 'L2603-A L2603-B']],
    });
    const html = renderTripReportHtml((await b.archive.get(trip.id))!.header.report!);
    expect(html).toContain('<tr><td>Bill of lading</td><td>CMR 2026/0042</td></tr><tr><td>Order</td><td>PO-7781</td></tr><tr><td>SSCC</td><td>106141412345678908</td></tr><tr><td>Lots</td><td>L2603-A, L2603-B</td></tr>');
  });
});

describe('probe calibration', () => {
  const calibrated = (calibratedAt: string) => ({ serial: 'SN-1', certificate: 'DAkkS-123', calibratedAt, accuracyC: 0.3 });

  it('is part of a probe in the config; a date that is not YYYY-MM-DD or an accuracy out of range is refused', () => {
    const cfg = (calibration: unknown) => ({ gatewayId: 'van-1', buses: [BUS], probes: [{ ...probe('p1', 'c1'), calibration }], compartments: [{ id: 'c1', name: 'Chiller', preset: 'chilled' }] });
    expect(parseConfig(cfg(calibrated('2026-01-10')), 't.json').config.probes[0]!.calibration).toEqual(calibrated('2026-01-10'));
    expect(parseConfig(cfg(calibrated('2026-01-10')), 't.json').config.trips.calibrationMaxAgeDays).toBe(365);
    expect(() => parseConfig(cfg(calibrated('10/01/2026')), 't.json')).toThrow(/probes\[0\]\.calibration\.calibratedAt.*YYYY-MM-DD|calibratedAt/);
    expect(() => parseConfig(cfg({ calibratedAt: '2026-01-10', accuracyC: 9 }), 't.json')).toThrow(/accuracyC/);
  });

  it('is overdue after trips.calibrationMaxAgeDays: the warning names the probe, the date and what to do', () => {
    const now = Date.UTC(2026, 2, 1);
    expect(calibrationStatus([{ id: 'p1', compartment: 'c1', calibration: calibrated('2025-01-10') }, { id: 'p2', calibration: calibrated('2026-01-10') }, { id: 'p3' }], 365, now)).toEqual([
      {
        probe: 'p1',
        compartment: 'c1',
        calibration: calibrated('2025-01-10'),
        ageDays: 415,
        warning: 'probe p1: calibrated 2025-01-10, 415 days ago (more than trips.calibrationMaxAgeDays 365): have it calibrated and set probes[].calibration to the new certificate',
      },
      { probe: 'p2', calibration: calibrated('2026-01-10'), ageDays: 50 },
      { probe: 'p3' },
    ]);
    expect(calibrationStatus([{ id: 'p1', calibration: calibrated('2025-03-01') }], 365, now)[0]!.warning).toBeUndefined();
  });

  it('every trip report carries each probe\'s calibration as it stood when the trip ended, with the warning, and the printable report shows it', async () => {
    const stale = new Date(T0 - 400 * DAY).toISOString().slice(0, 10);
    const h = await harness({
      probes: [{ ...probe('p1', 'c1'), calibration: calibrated(stale) }, { ...probe('p2', 'c1'), calibration: calibrated(new Date(T0 - 30 * DAY).toISOString().slice(0, 10)) }],
      compartments: [{ id: 'c1', name: 'Chiller', preset: 'chilled' }],
      trips: { calibrationMaxAgeDays: 180 },
    });
    h.engine.startTrip('anna');
    h.series(['p1', 'p2'], 120, () => 3);
    const report = h.engine.endTrip('anna')!;
    expect(report.calibration!.map((c) => [c.probe, c.ageDays, c.warning])).toEqual([
      ['p1', 400, `probe p1: calibrated ${stale}, 400 days ago (more than trips.calibrationMaxAgeDays 180): have it calibrated and set probes[].calibration to the new certificate`],
      ['p2', 30, undefined],
    ]);
    const html = renderTripReportHtml(report);
    expect(html).toContain(`<td>p1</td><td>c1</td><td>SN-1</td><td>DAkkS-123</td><td>${stale} (400 days)</td><td>+/- 0.3</td>`);
    expect(html).toContain(`WARNING: probe p1: calibrated ${stale}, 400 days ago`);
    expect(html.match(/WARNING/g)).toHaveLength(1);
    await h.engine.stop();
  });

  it('coldgate check warns about an overdue calibration (text and JSON) without failing on it', async () => {
    const dir = tmp();
    const file = path.join(dir, 'config.json');
    const [port, brokerPort] = [await freePort(), await freePort()];
    const broker = new Mosquitto({ port: brokerPort, dir: path.join(dir, 'mosquitto') });
    const slave = new PymodbusSlave({ tcp: port }, { 1: { ir: { 0: [41, 42] } } });
    await Promise.all([broker.start(), slave.start()]);
    cleanups.push(() => slave.stop(), () => broker.stop());
    const stale = new Date(Date.now() - 500 * DAY).toISOString().slice(0, 10);
    writeFileSync(
      file,
      JSON.stringify({
        gatewayId: 'van-1',
        dataDir: dir,
        uplink: { url: broker.url },
        buses: [{ id: 'b', type: 'tcp', host: '127.0.0.1', port, timeoutMs: 200 }],
        probes: [{ id: 'p1', bus: 'b', unit: 1, address: 0, compartment: 'c1', calibration: calibrated(stale) }, { id: 'p2', bus: 'b', unit: 1, address: 1, compartment: 'c1' }],
        compartments: [{ id: 'c1', name: 'Chiller', preset: 'chilled' }],
      }),
    );
    const text = await runCli(checkCommand, ['--config', file]);
    expect(text, text.out).toMatchObject({ code: 0 });
    expect(text.out).toContain(`WARNING probe p1: calibrated ${stale}, 500 days ago (more than trips.calibrationMaxAgeDays 365): have it calibrated`);
    expect(text.out.match(/WARNING/g)).toHaveLength(1);
    const json = JSON.parse((await runCli(checkCommand, ['--config', file, '--json'])).out) as { ok: boolean; warnings: string[] };
    expect(json.ok).toBe(true);
    expect(json.warnings).toEqual([expect.stringMatching(/^probe p1: calibrated /)]);
  }, 30_000);
});
