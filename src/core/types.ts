/**
 * What drivers produce and the journal stores. Every record gets its `seq` from the journal
 * when it is committed; before that it is a draft without one.
 */

/** Which clock stamped a record: the system clock, GPS-derived UTC, or neither could be trusted. */
export type TimeQuality = 'system' | 'gps' | 'unsynced';

/** good: a valid temperature; sensor-fault: the probe answered with a fault value; comms-error: no usable answer. */
export type ReadingQuality = 'good' | 'sensor-fault' | 'comms-error';

export interface TemperatureDraft {
  kind: 'temperature';
  ts: string;
  tq: TimeQuality;
  probe: string;
  compartment?: string;
  /** Degrees Celsius; null unless quality is good. */
  value: number | null;
  quality: ReadingQuality;
  /** Why the reading is not good, for people. */
  error?: string;
}

/** Field names and units as gpsd's TPV: speed in m/s, track in degrees true, altMSL in metres. */
export interface PositionDraft {
  kind: 'position';
  ts: string;
  tq: TimeQuality;
  /** 0 unknown, 1 no fix, 2 2D, 3 3D. */
  mode: 0 | 1 | 2 | 3;
  lat: number;
  lon: number;
  speed?: number;
  track?: number;
  altMSL?: number;
}

export type Severity = 'info' | 'warning' | 'critical';

/** Alarms, their transitions and system events: they travel on the `events` lane and are never dropped. */
export interface EventDraft {
  kind: 'event';
  ts: string;
  tq: TimeQuality;
  type: string;
  severity: Severity;
  source?: string;
  message: string;
  data?: Record<string, unknown>;
}

/**
 * Stands where readings are missing, so the cloud sees the hole and why. Two kinds:
 * - retention dropped them (reason `max-bytes` or `max-age`): they had seqs, all in
 *   fromSeq..toSeq (events in that range are kept);
 * - the disk refused them (reason the error code: `ENOSPC`, `EROFS`, `EFBIG`, `EIO`, ...): they
 *   never got seqs. They were taken after record `fromSeq` (0: none before) and before this
 *   gap record, whose own seq is `toSeq`; `lane`, `fromTs` and `toTs` say which lane and when.
 */
export interface GapDraft {
  kind: 'gap';
  ts: string;
  tq: TimeQuality;
  fromSeq: number;
  toSeq: number;
  count: number;
  reason: string;
  /** Only on gaps of unrecorded readings: the lane they were for and the first and last one's ts. */
  lane?: Lane;
  fromTs?: string;
  toTs?: string;
}

export type RecordDraft = TemperatureDraft | PositionDraft | EventDraft | GapDraft;
export type JournalRecord = RecordDraft & { seq: number };

export type Lane = 'telemetry' | 'events';

/** Events and gaps must outlive retention and go out before the backlog. */
export function laneOf(record: RecordDraft): Lane {
  return record.kind === 'event' || record.kind === 'gap' ? 'events' : 'telemetry';
}

/** Where drivers hand their samples; the runtime stamps nothing, the driver already did. */
export type SampleSink = (draft: RecordDraft) => void;

/**
 * Samples taken together (every probe of one coalesced Modbus read): the runtime commits them
 * with one journal promise instead of one per reading.
 */
export type SampleBatchSink = (drafts: RecordDraft[]) => void;

export type DeviceState = 'starting' | 'ok' | 'degraded' | 'offline';

/** Health of one device for the display, /metrics and the rules' device alarms. */
export interface DeviceHealth {
  id: string;
  kind: 'probe' | 'gps' | 'bus' | 'uplink' | 'journal';
  state: DeviceState;
  detail?: string;
  lastOkAt?: string;
  errors?: number;
  [extra: string]: unknown;
}
