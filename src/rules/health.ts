import type { HealthAlarmsConfig } from '../config/schema-rules.ts';
import type { DeviceHealth, ReadingQuality } from '../core/types.ts';
import type { AlarmType } from './alarms.ts';

/** What the engine has seen of a configured probe. */
export interface ProbeSeen {
  id: string;
  lastAt?: number;
  quality?: ReadingQuality;
  error?: string;
  staleMs: number;
}

export interface HealthFacts {
  nowMs: number;
  /** When watching began: a probe never heard from is silent since then. */
  sinceMs: number;
  probes: readonly ProbeSeen[];
  /** Latest report per device id (uplink, journal; see README for the fields used). */
  devices: readonly DeviceHealth[];
  /** Undefined when the config has no GPS. */
  gps?: { lastFixAt?: number; staleMs: number };
  clockSynced: boolean;
}

/** A device condition right now; the engine debounces it by `delayMs` into an alarm. */
export interface HealthCondition {
  key: string;
  type: AlarmType;
  source: string;
  /** undefined: nothing known (e.g. no uplink report yet), so nothing changes. */
  cond: boolean | undefined;
  severity: 'warning' | 'critical';
  delayMs: number;
  message: string;
}

function probeProblem(p: ProbeSeen, f: Pick<HealthFacts, 'nowMs' | 'sinceMs'>): string | undefined {
  if (p.quality !== undefined && p.quality !== 'good') return `${p.quality}${p.error ? `: ${p.error}` : ''}`;
  const silentMs = f.nowMs - (p.lastAt ?? f.sinceMs);
  return silentMs > p.staleMs ? `no reading for ${Math.round(silentMs / 1000)} s` : undefined;
}

/** Journal reports `usedBytes` and `maxBytes`: 470 MB of 512 MB at percent 90 -> full. */
function journalFill(h: DeviceHealth | undefined): number | undefined {
  if (!h || typeof h.usedBytes !== 'number' || typeof h.maxBytes !== 'number' || h.maxBytes <= 0) return undefined;
  return (100 * h.usedBytes) / h.maxBytes;
}

type HealthAlarm = Pick<HealthAlarmsConfig['probeFault'], 'enabled' | 'afterSec' | 'severity'>;

/** The alarm key of a device condition, e.g. `health:probe-fault:p1`. */
export const healthKey = (type: AlarmType, source: string): string => `health:${type}:${source}`;

/** Made for every watched device every second: one literal, no spread of a half-made one. */
function condition(c: Omit<HealthCondition, 'key' | 'severity' | 'delayMs'>, alarm: HealthAlarm): HealthCondition | undefined {
  if (!alarm.enabled) return undefined;
  const { type, source, cond, message } = c;
  return { type, source, cond, message, key: healthKey(type, source), severity: alarm.severity, delayMs: alarm.afterSec * 1000 };
}

/**
 * One probe's condition alone: what a reading can change (the engine judges it on the reading,
 * the rest on its 1 s tick). Undefined when probe-fault alarms are off.
 */
export function probeCondition(p: ProbeSeen, f: Pick<HealthFacts, 'nowMs' | 'sinceMs'>, cfg: HealthAlarmsConfig): HealthCondition | undefined {
  const problem = probeProblem(p, f);
  return condition({ type: 'probe-fault', source: p.id, cond: problem !== undefined, message: `Probe ${p.id}: ${problem ?? 'ok'}` }, cfg.probeFault);
}

/**
 * A journal that cannot write records nothing: always watched (no config can turn it off),
 * critical, and raised within seconds rather than at the first failed commit, which a retry
 * a second later may already have healed.
 */
export const JOURNAL_FAILED = { enabled: true, afterSec: 3, severity: 'critical' } as const;

/**
 * Every device condition the config asks to watch (and journal-failed, always). E.g. probe p1 last read sensor-fault ->
 * `{key: 'health:probe-fault:p1', cond: true, delayMs: 30000}`; uplink state 'offline' ->
 * `{key: 'health:uplink-offline:uplink', cond: true, delayMs: 1800000}`; journal state 'offline' ->
 * `{key: 'health:journal-failed:journal', cond: true, severity: 'critical', delayMs: 3000}`.
 */
export function healthConditions(f: HealthFacts, cfg: HealthAlarmsConfig): HealthCondition[] {
  const out: HealthCondition[] = [];
  const add = (c: Omit<HealthCondition, 'key' | 'severity' | 'delayMs'>, alarm: HealthAlarm) => {
    const full = condition(c, alarm);
    if (full) out.push(full);
  };
  for (const p of f.probes) {
    const c = probeCondition(p, f, cfg);
    if (c) out.push(c);
  }
  if (f.gps) {
    const lost = f.gps.lastFixAt === undefined || f.nowMs - f.gps.lastFixAt > f.gps.staleMs;
    add({ type: 'gps-lost', source: 'gps', cond: lost, message: 'GPS: no position fix' }, cfg.gpsLost);
  }
  for (const d of f.devices) {
    if (d.kind === 'uplink') add({ type: 'uplink-offline', source: d.id, cond: d.state !== 'ok', message: `Uplink ${d.id}: ${d.detail ?? d.state}` }, cfg.uplinkOffline);
    if (d.kind === 'journal') {
      const code = typeof d.fault === 'string' ? ` (${d.fault})` : '';
      add({ type: 'journal-failed', source: d.id, cond: d.state === 'offline', message: `Storage failed${code}: readings are not being recorded, alarms still work. Free space or replace the storage.` }, JOURNAL_FAILED);
    }
    const fill = d.kind === 'journal' ? journalFill(d) : undefined;
    if (fill !== undefined) add({ type: 'journal-full', source: d.id, cond: fill >= cfg.journalFull.percent, message: `Journal ${fill.toFixed(0)} % full` }, cfg.journalFull);
  }
  add({ type: 'clock-unsynced', source: 'clock', cond: !f.clockSynced, message: 'Clock not synchronised: timestamps are unreliable' }, cfg.clockUnsynced);
  return out;
}
