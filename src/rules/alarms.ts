/**
 * Alarm lifecycle: raised -> acknowledged (who, when) -> cleared. One open alarm per condition
 * `key`, so a condition that persists (or a restart) never raises it twice. A latched alarm
 * whose condition went away stays open until someone acknowledges it; acknowledging one whose
 * condition is still there only records who saw it.
 */
export const ALARM_TYPES = ['temperature', 'excursion-budget', 'probe-fault', 'gps-lost', 'uplink-offline', 'journal-full', 'journal-failed', 'clock-unsynced', 'entry-refused'] as const;
export type AlarmType = (typeof ALARM_TYPES)[number];

export interface Alarm {
  id: string;
  /** The condition: `temp:chiller:high`, `health:probe-fault:p1`, ... */
  key: string;
  type: AlarmType;
  severity: 'warning' | 'critical';
  /** Compartment, device or site id. */
  source: string;
  message: string;
  raisedAt: string;
  latched: boolean;
  /** The condition still holds. */
  active: boolean;
  ackedBy?: string;
  ackedAt?: string;
  clearedAt?: string;
  data: Record<string, unknown>;
}

export interface AlarmBook {
  nextId: number;
  open: Alarm[];
}

export interface AlarmTransition {
  kind: 'raised' | 'acknowledged' | 'cleared';
  alarm: Alarm;
}

export type AlarmSpec = Pick<Alarm, 'key' | 'type' | 'severity' | 'source' | 'message' | 'latched' | 'data'>;

export const EMPTY_BOOK: AlarmBook = { nextId: 1, open: [] };

interface Result {
  book: AlarmBook;
  transitions: AlarmTransition[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** `{nextId: 7}` at 2026-03-01T10:00Z -> id `m7a2b3c4-7`: readable, unique even if state was ever lost. */
export function raiseAlarm(book: AlarmBook, spec: AlarmSpec, nowMs: number): Result {
  const existing = book.open.find((a) => a.key === spec.key);
  if (existing) {
    if (existing.active) return { book, transitions: [] };
    // The condition came back before anyone acknowledged the latched alarm: still the same alarm.
    return { book: { ...book, open: book.open.map((a) => (a === existing ? { ...a, active: true } : a)) }, transitions: [] };
  }
  const alarm: Alarm = { ...spec, id: `${nowMs.toString(36)}-${book.nextId}`, raisedAt: iso(nowMs), active: true };
  return { book: { nextId: book.nextId + 1, open: [...book.open, alarm] }, transitions: [{ kind: 'raised', alarm }] };
}

function clear(book: AlarmBook, alarm: Alarm, nowMs: number, extra: AlarmTransition[]): Result {
  const cleared: Alarm = { ...alarm, active: false, clearedAt: iso(nowMs) };
  return { book: { ...book, open: book.open.filter((a) => a.id !== alarm.id) }, transitions: [...extra, { kind: 'cleared', alarm: cleared }] };
}

/** The condition behind `key` is gone: clear, unless latched and not yet acknowledged. */
export function conditionGone(book: AlarmBook, key: string, nowMs: number): Result {
  const alarm = book.open.find((a) => a.key === key);
  if (!alarm || !alarm.active) return { book, transitions: [] };
  if (alarm.latched && alarm.ackedBy === undefined) return { book: { ...book, open: book.open.map((a) => (a === alarm ? { ...a, active: false } : a)) }, transitions: [] };
  return clear(book, alarm, nowMs, []);
}

/** Unknown or already acknowledged ids change nothing (a second tap on the display is harmless). */
export function acknowledgeAlarm(book: AlarmBook, id: string, who: string, nowMs: number): Result {
  const alarm = book.open.find((a) => a.id === id);
  if (!alarm || alarm.ackedBy !== undefined) return { book, transitions: [] };
  const acked: Alarm = { ...alarm, ackedBy: who, ackedAt: iso(nowMs) };
  const ackT: AlarmTransition = { kind: 'acknowledged', alarm: acked };
  if (!acked.active) return clear(book, acked, nowMs, [ackT]);
  return { book: { ...book, open: book.open.map((a) => (a === alarm ? acked : a)) }, transitions: [ackT] };
}

/** Keeps the worst value an open alarm has seen as evidence (`peak`), without a transition. */
export function notePeak(book: AlarmBook, key: string, value: number, direction: 'above' | 'below'): AlarmBook {
  const alarm = book.open.find((a) => a.key === key && a.active);
  if (!alarm) return book;
  const peak = alarm.data.peak;
  const worse = typeof peak !== 'number' || (direction === 'above' ? value > peak : value < peak);
  return worse ? { ...book, open: book.open.map((a) => (a === alarm ? { ...a, data: { ...a.data, peak: value } } : a)) } : book;
}
