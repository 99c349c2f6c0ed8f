import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tripsExportCommand } from '../src/cli/trips.ts';
import type { JournalRecord, TemperatureDraft } from '../src/core/types.ts';
import type { Alarm } from '../src/rules/alarms.ts';
import { tripRecords } from '../src/trips/archive-file.ts';
import type { EpcisDocument, ObjectEvent } from '../src/trips/epcis.ts';
import type { GateRecord } from '../src/trips/gate.ts';
import { runCli } from './helpers/cli.ts';
import { epcisFixture, epcisProblems } from './helpers/epcis-schema.ts';
import { tempDir } from './helpers/tmp.ts';
import { tripBench, tripConfig } from './helpers/trips.ts';

const T0 = Date.UTC(2026, 2, 1, 6);
const SHIPMENT = { billOfLading: 'CMR 2026/0042', order: 'PO-7781', sscc: ['106141412345678908', '006141411234567890'], lots: ['L2603-A', 'L2603-B'] };
const alarm = (over: Partial<Alarm>): Alarm => ({
  id: 'a1',
  key: 'temp:chiller:high',
  type: 'temperature',
  severity: 'critical',
  source: 'chiller',
  message: 'Chiller above 8.0 C',
  raisedAt: new Date(T0 + 30 * 60_000).toISOString(),
  latched: false,
  active: false,
  clearedAt: new Date(T0 + 42 * 60_000).toISOString(),
  ackedBy: 'anna (display)',
  ackedAt: new Date(T0 + 35 * 60_000).toISOString(),
  data: { limit: 8, peak: 9.4 },
  ...over,
});
const GATE: GateRecord = {
  refuse: true,
  reasons: ['Chiller above 8.0 C (raised ...; still out of range)'],
  evidence: { alarms: [], budgets: [] },
  siteId: 'arena',
  siteName: 'Arena dock 3',
  at: new Date(T0 + 110 * 60_000).toISOString(),
};

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

/** A two-hour trip of three probes, a reading a minute, archived by the real recorder, exported by the CLI. */
async function exportedTrip(args: string[] = []): Promise<{ doc: EpcisDocument; file: string; id: string }> {
  const t = tempDir('coldgate-epcis-');
  cleanups.push(t.cleanup);
  const b = await tripBench(tripConfig(t.dir, 3), T0);
  const trip = b.start();
  b.feed(2, 60);
  await b.end(trip, { shipment: SHIPMENT, alarms: [alarm({}), alarm({ id: 'a2', key: 'health:probe-fault:p1', type: 'probe-fault', source: 'p1' }), alarm({ id: 'a3', raisedAt: new Date(T0 + 100 * 60_000).toISOString(), clearedAt: undefined, active: true })], entries: [GATE], clean: false });
  const entry = (await b.archive.get(trip.id))!;
  await b.recorder.close();
  const out = path.join(t.dir, 'trip.epcis.jsonld');
  const r = await runCli(tripsExportCommand, [trip.id, '--format', 'epcis', '--data', t.dir, '--out', out, ...args]);
  expect(r).toMatchObject({ code: 0, err: expect.stringMatching(/epcis of .* written to/) });
  return { doc: JSON.parse(readFileSync(out, 'utf8')) as EpcisDocument, file: entry.file, id: trip.id };
}

describe('trips export --format epcis (GS1 EPCIS 2.0 JSON-LD)', () => {
  it('the validator is not vacuous: GS1\'s sensor examples pass, a broken one does not', () => {
    for (const name of ['SensorDataExample2.jsonld', 'SensorDataExample3.jsonld']) expect(epcisProblems(epcisFixture(name)), name).toEqual([]);
    const broken = epcisFixture('SensorDataExample3.jsonld') as { epcisBody: { eventList: Record<string, unknown>[] } };
    broken.epcisBody.eventList[0]!.action = 'LOOK';
    expect(epcisProblems(broken).length).toBeGreaterThan(0);
  });

  it('an archived trip exports as a document that validates against GS1\'s schema, with 5-minute summaries per compartment', async () => {
    const { doc, file } = await exportedTrip();
    expect(epcisProblems(doc)).toEqual([]);
    const intervals = doc.epcisBody.eventList.filter((e) => e.disposition === 'in_transit');
    // Readings from 06:00 to 07:59 every minute: 24 intervals of 5 minutes.
    expect(intervals).toHaveLength(24);
    // The figures are the archived readings', recomputed here from the file.
    const first: number[] = [];
    for await (const chunk of tripRecords(file)) for (const r of chunk) if (r.kind === 'temperature' && Date.parse(r.ts) < T0 + 5 * 60_000) first.push(r.value!);
    expect(first).toHaveLength(15);
    const mean = Number((first.reduce((s, v) => s + v, 0) / first.length).toFixed(2));
    expect(intervals[0]!.sensorElementList).toEqual([
      {
        sensorMetadata: { startTime: '2026-03-01T06:00:00.000Z', endTime: '2026-03-01T06:04:59.999Z' },
        sensorReport: [{ type: 'Temperature', uom: 'CEL', minValue: Math.min(...first), maxValue: Math.max(...first), meanValue: mean }],
        'cg:compartment': 'chiller',
        'cg:samples': 15,
      },
    ]);
    expect(intervals[0]!.eventTime).toBe('2026-03-01T06:04:59.999Z');
    const times = doc.epcisBody.eventList.map((e) => e.eventTime);
    expect(times).toEqual([...times].sort());
  });

  it('has an event for each excursion raised and cleared and for the gate decision; every event carries the shipment', async () => {
    const { doc, id } = await exportedTrip();
    const events = doc.epcisBody.eventList;
    const alarms = events.filter((e) => e['cg:alarm']).map((e) => [e.eventTime, (e['cg:alarm'] as { id: string; state: string }).id, (e['cg:alarm'] as { state: string }).state, e.sensorElementList?.[0]?.sensorReport[0]?.exception]);
    // The probe fault is not an excursion; a3 was still open at the end.
    expect(alarms).toEqual([
      ['2026-03-01T06:30:00.000Z', 'a1', 'raised', 'ALARM_CONDITION'],
      ['2026-03-01T06:42:00.000Z', 'a1', 'cleared', undefined],
      ['2026-03-01T07:40:00.000Z', 'a3', 'raised', 'ALARM_CONDITION'],
    ]);
    expect(events.find((e) => e.eventID.endsWith(':alarm%3Aa1%3Araised'))!.sensorElementList![0]!.sensorReport[0]).toMatchObject({ value: 9.4, uom: 'CEL' });
    const gate = events.filter((e) => e['cg:gate']);
    expect(gate).toEqual([expect.objectContaining({ eventTime: GATE.at, bizStep: 'arriving', disposition: 'non_conformant', readPoint: { id: 'urn:coldgate:van-1:site:arena' }, 'cg:gate': { site: 'Arena dock 3', verdict: 'refused', reasons: GATE.reasons } })]);
    const refs = (e: ObjectEvent) => [e.epcList, e.bizTransactionList, e['cg:lotNumbers'], e['cg:tripId']];
    expect(new Set(events.map((e) => JSON.stringify(refs(e))))).toEqual(
      new Set([
        JSON.stringify([
          ['https://id.gs1.org/00/106141412345678908', 'https://id.gs1.org/00/006141411234567890'],
          [
            { type: 'bol', bizTransaction: 'urn:coldgate:van-1:bol:CMR%202026%2F0042' },
            { type: 'po', bizTransaction: 'urn:coldgate:van-1:po:PO-7781' },
          ],
          ['L2603-A', 'L2603-B'],
          id,
        ]),
      ]),
    );
    expect(new Set(events.map((e) => e.eventID)).size).toBe(events.length);
  });

  it('takes the recording interval from --interval and refuses one that is not whole minutes', async () => {
    const { doc } = await exportedTrip(['--interval', '15']);
    expect(epcisProblems(doc)).toEqual([]);
    expect(doc.epcisBody.eventList.filter((e) => e.disposition === 'in_transit')).toHaveLength(8);
    expect(await runCli(tripsExportCommand, ['x', '--format', 'epcis', '--data', '/nonexistent', '--interval', '2.5'])).toMatchObject({ code: 2, err: expect.stringMatching(/--interval "2.5" is not a recording interval: give whole minutes 1..1440/) });
  });

  it('an interval whose probes only read faults is an ERROR_CONDITION report; faults beside good readings are counted', async () => {
    const t = tempDir('coldgate-epcis-');
    cleanups.push(t.cleanup);
    const b = await tripBench(tripConfig(t.dir, 2), T0);
    const trip = b.start();
    const fault = (probe: string, ms: number): TemperatureDraft => ({ kind: 'temperature', ts: new Date(ms).toISOString(), tq: 'system', probe, compartment: 'chiller', value: null, quality: 'sensor-fault', error: 'open circuit' });
    // 06:00-06:04 both probes faulted; then an hour of good readings, with one more fault at 06:10.
    const faults = [0, 60, 120].flatMap((s) => [fault('p0', T0 + s * 1000), fault('p1', T0 + s * 1000)]);
    b.recorder.take(faults)?.(faults.map((d, i) => ({ ...d, seq: 1_000_000 + i }) as JournalRecord));
    b.now = T0 + 5 * 60_000;
    b.feed(1, 60);
    const late = [fault('p1', T0 + 10 * 60_000 + 500)];
    b.recorder.take(late)?.(late.map((d) => ({ ...d, seq: 2_000_000 }) as JournalRecord));
    await b.end(trip);
    await b.recorder.close();
    const out = path.join(t.dir, 'trip.jsonld');
    expect((await runCli(tripsExportCommand, [trip.id, '--format', 'epcis', '--data', t.dir, '--out', out])).code).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as EpcisDocument;
    expect(epcisProblems(doc)).toEqual([]);
    const elements = doc.epcisBody.eventList.map((e) => e.sensorElementList![0]!);
    expect(elements[0]).toEqual({ sensorMetadata: { startTime: '2026-03-01T06:00:00.000Z', endTime: '2026-03-01T06:04:59.999Z' }, sensorReport: [{ type: 'Temperature', uom: 'CEL', exception: 'ERROR_CONDITION' }], 'cg:compartment': 'chiller', 'cg:samples': 0, 'cg:faults': 6 });
    expect(elements.map((e) => e['cg:faults'] ?? 0)).toEqual([6, 0, 1, ...Array(10).fill(0)]);
    expect(elements[2]).toMatchObject({ 'cg:samples': 10, sensorReport: [{ minValue: expect.any(Number), maxValue: expect.any(Number), meanValue: expect.any(Number) }] });
  });
});
