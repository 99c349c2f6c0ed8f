import type { LiveSnapshot } from '../runtime/live-state.ts';
import type { JournalStats } from '../journal/journal.ts';

function label(value: string): string {
  return value.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** What the display itself adds to /metrics. */
export interface DisplayStats {
  clients: number;
  pinFailures: number;
  outputsOn: boolean;
}

const STATES = ['ok', 'warning', 'critical', 'suppressed', 'unknown'] as const;

/** Prometheus text exposition format (version 0.0.4). */
export function renderMetrics(snapshot: LiveSnapshot, journal: JournalStats, display: DisplayStats): string {
  const lines: string[] = [];
  const metric = (type: 'gauge' | 'counter', name: string, help: string, samples: [Record<string, string>, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(',');
      lines.push(`${name}${l ? `{${l}}` : ''} ${value}`);
    }
  };
  const gauge = (name: string, help: string, samples: [Record<string, string>, number][]) => metric('gauge', name, help, samples);
  gauge('coldgate_compartment_temperature_celsius', 'Combined temperature per compartment (warmest channel).',
    snapshot.compartments.filter((c) => c.value !== null).map((c) => [{ compartment: c.id }, c.value as number]));
  gauge('coldgate_compartment_state', '1 for the state the compartment is in.',
    snapshot.compartments.flatMap((c) => STATES.map((s): [Record<string, string>, number] => [{ compartment: c.id, state: s }, c.state === s ? 1 : 0])));
  gauge('coldgate_probe_temperature_celsius', 'Latest good reading per probe.',
    snapshot.compartments.flatMap((c) => c.probes.filter((p) => p.value !== null).map((p): [Record<string, string>, number] => [{ probe: p.id, compartment: c.id }, p.value as number])));
  const alarms = new Map<string, number>();
  for (const a of snapshot.alarms) {
    const key = `${a.type}|${a.severity}|${a.ackedBy === undefined ? 'false' : 'true'}`;
    alarms.set(key, (alarms.get(key) ?? 0) + 1);
  }
  gauge('coldgate_alarms_open', 'Open alarms by type, severity and whether someone acknowledged them.',
    [...alarms].map(([key, n]) => {
      const [type, severity, acknowledged] = key.split('|') as [string, string, string];
      return [{ type, severity, acknowledged }, n];
    }));
  gauge('coldgate_do_not_unload', '1 while the entry gate refused the cargo.', [[{}, snapshot.gate.doNotUnload ? 1 : 0]]);
  gauge('coldgate_trip_running', '1 while a trip runs.', [[{}, snapshot.trip ? 1 : 0]]);
  gauge('coldgate_alarm_output_on', '1 while buzzer, relay and console signal an unacknowledged alarm.', [[{}, display.outputsOn ? 1 : 0]]);
  gauge('coldgate_device_up', '1 when the device is ok, 0 otherwise.',
    snapshot.health.map((h) => [{ device: h.id, kind: h.kind }, h.state === 'ok' ? 1 : 0]));
  gauge('coldgate_journal_pending_records', 'Committed records not yet acknowledged by the broker.',
    Object.entries(journal.lanes).map(([lane, s]) => [{ lane }, s.records]));
  gauge('coldgate_journal_bytes', 'Bytes of unacknowledged chunks on disk.', Object.entries(journal.lanes).map(([lane, s]) => [{ lane }, s.bytes]));
  gauge('coldgate_journal_next_seq', 'Next sequence number to be assigned.', [[{}, journal.nextSeq]]);
  gauge('coldgate_journal_writable', '1 while the journal can write, 0 while the disk refuses (full, read-only, failing).', [[{}, journal.writable ? 1 : 0]]);
  gauge('coldgate_journal_held_events', 'Events kept in memory until the disk takes writes again.', [[{}, journal.heldEvents]]);
  metric('counter', 'coldgate_journal_unrecorded_total', 'Records the disk refused since start (each run announced by a gap record).', [[{}, journal.unrecorded]]);
  // End-to-end acknowledgement (src/uplink/end-to-end.ts): what the uplink's health says.
  const uplink = snapshot.health.find((h) => h.kind === 'uplink');
  if (uplink && typeof uplink.committedThrough === 'number') {
    gauge('coldgate_uplink_end_to_end', '1 once a receiver answers: the journal then keeps records until the receiver committed them.', [[{}, uplink.ackedOn === 'receiver' ? 1 : 0]]);
    gauge('coldgate_uplink_committed_through', 'Every seq up to this one is stored by the receiver (its committed mark).', [[{}, uplink.committedThrough]]);
    gauge('coldgate_uplink_uncommitted_records', 'Records the broker PUBACKed that the journal keeps until the receiver commits them.', [[{}, Number(uplink.uncommittedRecords ?? 0)]]);
  }
  gauge('coldgate_display_clients', 'Open live connections from displays.', [[{}, display.clients]]);
  metric('counter', 'coldgate_display_pin_failures_total', 'Wrong PINs entered on the display since start.', [[{}, display.pinFailures]]);
  return `${lines.join('\n')}\n`;
}
