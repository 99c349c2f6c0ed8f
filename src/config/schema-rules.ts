import { z } from 'zod';
import { Id, intIn, Millis, numIn } from './schema-common.ts';

/**
 * Limits from practice (see REFERENCE.md). `high` is the limit of the acceptable range with
 * `severity`; `criticalHigh` a second, always critical tier; `riseAllowance` the brief rise
 * tolerated while a defrost or a door opening suppresses alarms.
 */
export const PRESETS = {
  chilled: { high: 5, criticalHigh: 8, severity: 'warning' },
  frozen: { high: -18, severity: 'critical', riseAllowance: 3 },
  'frozen-other': { high: -12, severity: 'critical', riseAllowance: 3 },
  'ice-cream': { high: -20, severity: 'critical', riseAllowance: 3 },
  'atp-red-meat': { high: 7, severity: 'critical' },
  'atp-poultry': { high: 4, severity: 'critical' },
  'atp-offal': { high: 3, severity: 'critical' },
  'atp-minced-meat': { high: 2, severity: 'critical' },
  'atp-milk': { high: 6, severity: 'critical' },
} as const satisfies Record<string, { high: number; criticalHigh?: number; severity: 'warning' | 'critical'; riseAllowance?: number }>;

export type PresetName = keyof typeof PRESETS;
const presetNames = Object.keys(PRESETS) as [PresetName, ...PresetName[]];
export const PresetName = z.enum(presetNames, { error: `expected a preset: ${presetNames.join(', ')}` });

export const AlarmSeverity = z.enum(['warning', 'critical']);

const HhMm = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'expected a UTC time of day HH:MM');

/**
 * Why alarms may wait: a defrost or an open door warms the air for a while. Suppressed from the
 * moment the cause starts until `afterMin` after it ends, never longer than `maxMin` from its start:
 * past that the alarm fires anyway.
 */
const SuppressionCommon = {
  input: Id.optional().describe('id of a digital input (inputs[]) that is on while the cause lasts'),
  afterMin: intIn(0, 240).describe('still suppressed this long after the cause ends, while the air recovers'),
  maxMin: intIn(1, 720).describe('hard maximum from the start: past this the alarm fires anyway'),
  allowance: numIn(0, 30).optional().describe('rise above the limit tolerated while suppressed, C; beyond it no suppression (default: the preset\'s, else any rise)'),
};

export const DefrostConfig = z
  .strictObject({
    ...SuppressionCommon,
    afterMin: SuppressionCommon.afterMin.default(15),
    maxMin: SuppressionCommon.maxMin.default(60),
    schedule: z
      .strictObject({
        startsUtc: z.array(HhMm).min(1).describe('defrost start times, UTC'),
        durationMin: intIn(1, 240),
      })
      .optional(),
  })
  .refine((d) => d.input !== undefined || d.schedule !== undefined, { error: 'a defrost needs an input or a schedule' });
export type DefrostConfig = z.infer<typeof DefrostConfig>;

export const DoorConfig = z.strictObject({
  ...SuppressionCommon,
  input: Id.describe('id of the door contact (inputs[]), on while the door is open'),
  afterMin: SuppressionCommon.afterMin.default(5),
  maxMin: SuppressionCommon.maxMin.default(30),
});
export type DoorConfig = z.infer<typeof DoorConfig>;

/** A door contact or defrost relay read by the Modbus driver; the rules only see on/off by id. */
export const InputConfig = z.strictObject({
  id: Id,
  bus: Id.describe('id of the bus'),
  unit: intIn(0, 255),
  function: z.union([z.literal(1), z.literal(2)]).default(2).describe('1 = coil, 2 = discrete input'),
  address: intIn(0, 65535),
  invert: z.boolean().default(false).describe('on when the bit reads 0 (normally-closed contacts)'),
  intervalMs: Millis(100).default(1000),
});
export type InputConfig = z.infer<typeof InputConfig>;

const Lat = numIn(-90, 90);
const Lon = numIn(-180, 180);
export const LatLon = z.strictObject({ lat: Lat, lon: Lon });
export type LatLon = z.infer<typeof LatLon>;

export const Area = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('circle'), lat: Lat, lon: Lon, radiusM: numIn(10, 100_000) }),
  z.strictObject({ type: z.literal('polygon'), points: z.array(LatLon).min(3, 'a polygon needs at least 3 points') }),
], { error: 'expected an area of type "circle" or "polygon"' });
export type Area = z.infer<typeof Area>;

/** open-critical: a critical excursion alarm still open; any-critical: one raised during the trip; budget-spent: a compartment used up its budget. */
export const RefuseReason = z.enum(['open-critical', 'any-critical', 'budget-spent'], { error: 'expected open-critical, any-critical or budget-spent' });
export type RefuseReason = z.infer<typeof RefuseReason>;

export const SiteConfig = z.strictObject({
  id: Id,
  name: z.string().min(1).max(64),
  role: z.enum(['depot', 'customer', 'other']).default('customer').describe('leaving a depot can start a trip, reaching one end it'),
  area: Area,
  refuseOn: z.array(RefuseReason).default([]).describe('entry gate: refuse entry for these reasons; empty = no check'),
});
export type SiteConfig = z.infer<typeof SiteConfig>;

export const TripsConfig = z.strictObject({
  autoStart: z.boolean().default(true).describe('start a trip when the vehicle leaves a depot'),
  autoEnd: z.boolean().default(true).describe('end the trip when the vehicle reaches a depot'),
  confirmSec: intIn(0, 600).default(15).describe('inside or outside a site for this long before it counts (GPS jitter)'),
  calibrationMaxAgeDays: intIn(1, 3650).default(365).describe('a probe calibrated longer ago than this is a warning in coldgate check and in every trip report'),
});
export type TripsConfig = z.infer<typeof TripsConfig>;

const healthShape = (afterSec: number, severity: 'warning' | 'critical') => ({
  enabled: z.boolean().default(true),
  afterSec: intIn(0, 86_400).default(afterSec).describe('the condition must last this long'),
  severity: AlarmSeverity.default(severity),
});
const healthAlarm = (afterSec: number, severity: 'warning' | 'critical') =>
  z.strictObject(healthShape(afterSec, severity)).default({ enabled: true, afterSec, severity });

export const HealthAlarmsConfig = z.strictObject({
  probeFault: healthAlarm(30, 'critical').describe('a probe reads a fault, answers nothing, or is not heard from'),
  gpsLost: healthAlarm(120, 'warning'),
  uplinkOffline: healthAlarm(1800, 'warning'),
  journalFull: z
    .strictObject({ ...healthShape(0, 'warning'), percent: intIn(1, 100).default(90).describe('alarm at this fill level') })
    .default({ enabled: true, afterSec: 0, severity: 'warning', percent: 90 }),
  clockUnsynced: healthAlarm(300, 'warning'),
});
export type HealthAlarmsConfig = z.infer<typeof HealthAlarmsConfig>;
