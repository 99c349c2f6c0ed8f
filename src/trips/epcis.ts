import type { Alarm } from '../rules/alarms.ts';
import { tripRecords, type TripHeader } from './archive-file.ts';
import type { GateRecord } from './gate.ts';
import type { ShipmentRefs } from './shipment.ts';

/**
 * `coldgate trips export ID --format epcis`: a GS1 EPCIS 2.0 JSON-LD EPCISDocument of one trip.
 *   - one ObjectEvent (bizStep sensor_reporting) per recording interval, with one sensorElement
 *     per compartment: sensorMetadata startTime/endTime, a Temperature sensorReport with
 *     minValue/maxValue/meanValue in CEL (ERROR_CONDITION when the probes only read faults)
 *   - one ObjectEvent per excursion alarm raised (sensorReport exception ALARM_CONDITION, the
 *     worst value seen) and one when it cleared
 *   - one ObjectEvent per gate decision (bizStep arriving, disposition conformant/non_conformant)
 * Every event carries the shipment: SSCCs in epcList as GS1 Digital Link URIs, the bill of
 * lading and order in bizTransactionList, lot codes as `cg:lotNumbers`. Names under `cg:` are
 * coldgate's extension (JSON-LD prefix urn:coldgate:epcis:), as EPCIS 2.0 allows.
 */
export const EPCIS_CONTEXT = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';
export const CG_NAMESPACE = 'urn:coldgate:epcis:';
/** EN 12830's recording interval, the default. */
export const DEFAULT_INTERVAL_MS = 5 * 60_000;

export interface SensorReport {
  type: 'Temperature';
  uom: 'CEL';
  exception?: 'ALARM_CONDITION' | 'ERROR_CONDITION';
  time?: string;
  value?: number;
  minValue?: number;
  maxValue?: number;
  meanValue?: number;
}

export interface SensorElement {
  sensorMetadata: { startTime?: string; endTime?: string; time?: string };
  sensorReport: SensorReport[];
  'cg:compartment'?: string;
  'cg:samples'?: number;
  'cg:faults'?: number;
}

export interface ObjectEvent {
  type: 'ObjectEvent';
  eventTime: string;
  eventTimeZoneOffset: '+00:00';
  eventID: string;
  action: 'OBSERVE';
  bizStep: 'sensor_reporting' | 'arriving';
  disposition?: 'in_transit' | 'conformant' | 'non_conformant';
  epcList: string[];
  bizTransactionList?: { type: 'bol' | 'po'; bizTransaction: string }[];
  readPoint: { id: string };
  sensorElementList?: SensorElement[];
  'cg:tripId': string;
  'cg:lotNumbers'?: string[];
  'cg:alarm'?: Record<string, unknown>;
  'cg:gate'?: Record<string, unknown>;
}

export interface EpcisDocument {
  '@context': [string, { cg: string }];
  type: 'EPCISDocument';
  schemaVersion: '2.0';
  creationDate: string;
  id: string;
  'cg:gatewayId': string;
  'cg:tripId': string;
  epcisBody: { eventList: ObjectEvent[] };
}

/** `urn:coldgate:van-1:bol:CMR%2F7`: ids of coldgate's own, each part percent-encoded. */
export const cgUrn = (...parts: string[]) => `urn:coldgate:${parts.map(encodeURIComponent).join(':')}`;

/** An 18-digit SSCC as a GS1 Digital Link URI (the EPC URN needs the company prefix length, which the SSCC does not carry). */
export const ssccUri = (sscc: string) => `https://id.gs1.org/00/${sscc}`;

/** What every event of the trip says about the shipment. */
function shipmentFields(gatewayId: string, s: ShipmentRefs | undefined): Pick<ObjectEvent, 'epcList' | 'bizTransactionList' | 'cg:lotNumbers'> {
  const tx = [
    ...(s?.billOfLading ? [{ type: 'bol' as const, bizTransaction: cgUrn(gatewayId, 'bol', s.billOfLading) }] : []),
    ...(s?.order ? [{ type: 'po' as const, bizTransaction: cgUrn(gatewayId, 'po', s.order) }] : []),
  ];
  return { epcList: (s?.sscc ?? []).map(ssccUri), ...(tx.length > 0 && { bizTransactionList: tx }), ...(s?.lots && { 'cg:lotNumbers': s.lots }) };
}

interface IntervalStats {
  n: number;
  faults: number;
  min: number;
  max: number;
  sum: number;
}

/** Good readings per interval start and compartment ("" for probes in none), and fault counts. */
async function intervalStats(file: string, intervalMs: number): Promise<Map<number, Map<string, IntervalStats>>> {
  const byInterval = new Map<number, Map<string, IntervalStats>>();
  for await (const chunk of tripRecords(file)) {
    for (const r of chunk) {
      if (r.kind !== 'temperature') continue;
      const start = Math.floor(Date.parse(r.ts) / intervalMs) * intervalMs;
      let comps = byInterval.get(start);
      if (!comps) byInterval.set(start, (comps = new Map()));
      const key = r.compartment ?? '';
      const s = comps.get(key) ?? { n: 0, faults: 0, min: Infinity, max: -Infinity, sum: 0 };
      if (r.quality === 'good' && r.value !== null) {
        s.n++;
        s.min = Math.min(s.min, r.value);
        s.max = Math.max(s.max, r.value);
        s.sum += r.value;
      } else s.faults++;
      comps.set(key, s);
    }
  }
  return byInterval;
}

function sensorElement(compartment: string, s: IntervalStats, startMs: number, intervalMs: number): SensorElement {
  const report: SensorReport =
    s.n === 0 ? { type: 'Temperature', uom: 'CEL', exception: 'ERROR_CONDITION' } : { type: 'Temperature', uom: 'CEL', minValue: s.min, maxValue: s.max, meanValue: Number((s.sum / s.n).toFixed(2)) };
  return {
    // The interval is [start, end]: the next begins a millisecond after this one ends.
    sensorMetadata: { startTime: new Date(startMs).toISOString(), endTime: new Date(startMs + intervalMs - 1).toISOString() },
    sensorReport: [report],
    ...(compartment !== '' && { 'cg:compartment': compartment }),
    'cg:samples': s.n,
    ...(s.faults > 0 && { 'cg:faults': s.faults }),
  };
}

const EXCURSION_TYPES = new Set<Alarm['type']>(['temperature', 'excursion-budget']);

function alarmEvents(a: Alarm, base: (at: string, kind: string) => ObjectEvent): ObjectEvent[] {
  const worst = typeof a.data.peak === 'number' ? a.data.peak : typeof a.data.value === 'number' ? a.data.value : undefined;
  const alarm = { id: a.id, type: a.type, severity: a.severity, compartment: a.source, message: a.message, ...(typeof a.data.limit === 'number' && { limitC: a.data.limit }) };
  const raised: ObjectEvent = {
    ...base(a.raisedAt, `alarm:${a.id}:raised`),
    sensorElementList: [{ sensorMetadata: { time: a.raisedAt }, sensorReport: [{ type: 'Temperature', uom: 'CEL', exception: 'ALARM_CONDITION', time: a.raisedAt, ...(worst !== undefined && { value: worst }) }], 'cg:compartment': a.source }],
    'cg:alarm': { ...alarm, state: 'raised' },
  };
  if (!a.clearedAt) return [raised];
  const ack = a.ackedBy ? { acknowledgedBy: a.ackedBy, acknowledgedAt: a.ackedAt } : {};
  return [raised, { ...base(a.clearedAt, `alarm:${a.id}:cleared`), 'cg:alarm': { ...alarm, ...ack, state: 'cleared' } }];
}

function gateEvent(gatewayId: string, e: GateRecord, base: (at: string, kind: string) => ObjectEvent): ObjectEvent {
  return {
    ...base(e.at, `gate:${e.siteId}:${e.at}`),
    bizStep: 'arriving',
    disposition: e.refuse ? 'non_conformant' : 'conformant',
    readPoint: { id: cgUrn(gatewayId, 'site', e.siteId) },
    'cg:gate': { site: e.siteName, verdict: e.refuse ? 'refused' : 'admitted', reasons: e.reasons },
  };
}

/** The trip file as one EPCIS document; reads the readings once, keeps one summary per interval and compartment. */
export async function tripEpcis(file: string, h: TripHeader, opts: { intervalMs?: number; nowMs: number }): Promise<EpcisDocument> {
  const intervalMs = opts.intervalMs ?? DEFAULT_INTERVAL_MS;
  const r = h.report;
  const refs = shipmentFields(h.gatewayId, r?.shipment);
  const base = (at: string, kind: string): ObjectEvent => ({
    type: 'ObjectEvent',
    eventTime: at,
    eventTimeZoneOffset: '+00:00',
    eventID: cgUrn(h.gatewayId, h.tripId, kind),
    action: 'OBSERVE',
    bizStep: 'sensor_reporting',
    ...refs,
    readPoint: { id: cgUrn(h.gatewayId) },
    'cg:tripId': h.tripId,
  });
  const intervals = [...(await intervalStats(file, intervalMs))].sort(([a], [b]) => a - b);
  const events: ObjectEvent[] = [
    ...intervals.map(([start, comps]) => ({
      ...base(new Date(start + intervalMs - 1).toISOString(), `interval:${start}`),
      disposition: 'in_transit' as const,
      sensorElementList: [...comps].sort(([a], [b]) => a.localeCompare(b)).map(([c, s]) => sensorElement(c, s, start, intervalMs)),
    })),
    ...(r?.alarms ?? []).filter((a) => EXCURSION_TYPES.has(a.type)).flatMap((a) => alarmEvents(a, base)),
    ...(r?.entries ?? []).map((e) => gateEvent(h.gatewayId, e, base)),
  ];
  events.sort((a, b) => a.eventTime.localeCompare(b.eventTime));
  return {
    '@context': [EPCIS_CONTEXT, { cg: CG_NAMESPACE }],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: new Date(opts.nowMs).toISOString(),
    id: cgUrn(h.gatewayId, h.tripId, 'epcis'),
    'cg:gatewayId': h.gatewayId,
    'cg:tripId': h.tripId,
    epcisBody: { eventList: events },
  };
}
