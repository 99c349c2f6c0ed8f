import { describe, expect, it } from 'vitest';
import type { Alarm, TripReport } from '../src/rules/index.ts';
import { renderTripReportHtml } from '../src/rules/index.ts';
import { harness, probe, type Harness } from './rules-harness.ts';

const DEPOT = { lat: 53.55, lon: 9.99 };
const CUSTOMER = { lat: 53.6, lon: 10.05 };
const ROAD = { lat: 53.58, lon: 10.02 };
const square = (c: { lat: number; lon: number }, d: number) => [
  { lat: c.lat - d, lon: c.lon - d },
  { lat: c.lat - d, lon: c.lon + d },
  { lat: c.lat + d, lon: c.lon + d },
  { lat: c.lat + d, lon: c.lon - d },
];

const truck = (compartment: Record<string, unknown> = {}, refuseOn = ['open-critical', 'budget-spent']) => ({
  probes: [probe('p1', 'c1')],
  compartments: [{ id: 'c1', name: 'Chiller', preset: 'chilled', delaySec: 300, ...compartment }],
  sites: [
    { id: 'depot', name: 'Depot', role: 'depot', area: { type: 'circle', ...DEPOT, radiusM: 500 } },
    { id: 'shop', name: 'Shop 12', area: { type: 'polygon', points: square(CUSTOMER, 0.002) }, refuseOn },
  ],
});

/** Depot until 30 s, on the road until 600 s, at the shop until 900 s, back at the depot until 1200 s; fixes every 5 s. */
function drive(h: Harness, temp: (t: number) => number) {
  h.every(1200, 5, (t) => {
    const at = t < 30 ? DEPOT : t < 600 ? ROAD : t < 900 ? CUSTOMER : DEPOT;
    h.fix(at.lat, at.lon);
    if (t % 10 === 0) h.temp('p1', temp(t));
  });
}

describe('trips and the entry gate', () => {
  it('admits a clean trip; leaving and reaching the depot start and end it', async () => {
    const h = await harness(truck());
    drive(h, () => 3);
    expect(h.of('trip.started').map((x) => [x.at, x.e.data?.by])).toEqual([[45, 'auto: left Depot']]);
    expect(h.of('entry-admitted').map((x) => [x.at, x.e.source])).toEqual([[615, 'shop']]);
    expect(h.of('entry-refused')).toEqual([]);
    const [ended] = h.of('trip.ended');
    expect(ended?.at).toBe(915);
    const report = ended!.e.data?.report as TripReport;
    expect(report).toMatchObject({ clean: true, startedBy: 'auto: left Depot', endedBy: 'auto: arrived at Depot', durationMin: 14.5, alarms: [] });
    expect(report.entries.map((e) => [e.siteId, e.refuse])).toEqual([['shop', false]]);
    expect(report.compartments[0]).toMatchObject({ min: 3, max: 3, mkt: 3, outOfRangeMin: 0 });
  });

  it('refuses entry with evidence after an unresolved critical excursion, and says do not unload', async () => {
    const h = await harness(truck());
    drive(h, (t) => (t >= 100 && t < 450 ? 9 : 3));
    const critical = h.of('alarm.raised').map((x) => x.e.data?.alarm as Alarm).find((a) => a.severity === 'critical' && a.type === 'temperature');
    expect(critical).toMatchObject({ raisedAt: '2026-03-01T10:06:40.000Z' });
    const [refused] = h.of('entry-refused');
    expect(refused?.at).toBe(615);
    expect(refused?.e).toMatchObject({ severity: 'critical', source: 'shop' });
    expect(refused?.e.message).toMatch(/^Entry refused at Shop 12: do not unload\. Chiller above 8\.0 C: 9\.0 C \(raised 2026-03-01T10:06:40\.000Z, peak 9\.0 C; back in range, not acknowledged\)/);
    const gate = refused?.e.data?.gate as { evidence: { alarms: Alarm[] } };
    expect(gate.evidence.alarms.map((a) => a.id)).toEqual([critical!.id]);
    // The entry-refused alarm is open while the van is at the site.
    expect(h.of('alarm.raised').map((x) => x.e.data?.alarmType)).toContain('entry-refused');
    expect((h.of('trip.ended')[0]?.e.data?.report as TripReport).clean).toBe(false);
  });

  it('shows do-not-unload on the snapshot while at the refusing site', async () => {
    const h = await harness(truck());
    h.engine.startTrip('driver');
    h.series(['p1'], 400, () => 9);
    h.every(700, 5, () => h.fix(CUSTOMER.lat, CUSTOMER.lon));
    expect(h.engine.snapshot().gate).toMatchObject({ doNotUnload: true, message: expect.stringContaining('do not unload'), lastEntry: { siteId: 'shop', refuse: true } });
  });

  it('raises the budget alarm when short excursions add up, and the gate refuses on it', async () => {
    const h = await harness(truck({ budgetMin: 10 }, ['budget-spent']));
    h.engine.startTrip('driver');
    // Three 4-minute excursions, each shorter than the 5-minute delay.
    const out = (t: number) => [100, 400, 700].some((s) => t >= s && t < s + 240);
    h.series(['p1'], 1200, (t) => (out(t) ? 7 : 3));
    expect(h.of('alarm.raised').map((x) => [x.at, x.e.data?.alarmType])).toEqual([[820, 'excursion-budget']]);
    h.every(1300, 5, () => h.fix(CUSTOMER.lat, CUSTOMER.lon));
    expect(h.of('entry-refused')[0]?.e.message).toContain('Chiller: 12 min out of range this trip, budget 10 min');
    const report = h.engine.endTrip('driver')!;
    expect(report.compartments[0]).toMatchObject({ outOfRangeMin: 12, excursionMin: 12, budgetMin: 10, budgetSpent: true });
    expect(report.clean).toBe(false);
  });

  it('reports min, max, mean and MKT per compartment, as JSON and as a printable page', async () => {
    const h = await harness({ probes: [probe('p1', 'c1')], compartments: [{ id: 'c1', name: 'Chiller <A>', high: 10 }] });
    const trip = h.engine.startTrip('anna');
    expect(h.engine.startTrip('bob')).toEqual(trip);
    h.series(['p1'], 40, (t) => [2, 4, 8, 5][t / 10]!);
    const report = h.engine.endTrip('anna')!;
    expect(report.compartments[0]).toMatchObject({ samples: 4, min: 2, max: 8, mean: 4.75, mkt: 5.042, limits: { high: 10 } });
    expect(h.of('trip.ended')[0]?.e.data?.report).toEqual(report);
    expect(h.engine.endTrip('anna')).toBeUndefined();
    const html = renderTripReportHtml(report);
    expect(html).toContain(`<h1>Trip report ${trip.id}</h1>`);
    expect(html).toContain('<td>Chiller &lt;A&gt;</td>');
    expect(html).toContain('<td>5.042</td>');
    expect(html).not.toContain('<A>');
  });
});
