import type { LiveSnapshot } from '../runtime/live-state.ts';
import type { JournalStats } from '../journal/journal.ts';

function label(value: string): string {
  return value.replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** Prometheus text exposition format (version 0.0.4). */
export function renderMetrics(snapshot: LiveSnapshot, journal: JournalStats): string {
  const lines: string[] = [];
  const gauge = (name: string, help: string, samples: [Record<string, string>, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(',');
      lines.push(`${name}${l ? `{${l}}` : ''} ${value}`);
    }
  };
  gauge('coldgate_compartment_temperature_celsius', 'Warmest good probe reading per compartment.',
    snapshot.compartments.filter((c) => c.value !== null).map((c) => [{ compartment: c.id }, c.value as number]));
  gauge('coldgate_probe_temperature_celsius', 'Latest good reading per probe.',
    snapshot.compartments.flatMap((c) => c.probes.filter((p) => p.value !== null).map((p): [Record<string, string>, number] => [{ probe: p.id, compartment: c.id }, p.value as number])));
  gauge('coldgate_device_up', '1 when the device is ok, 0 otherwise.',
    snapshot.health.map((h) => [{ device: h.id, kind: h.kind }, h.state === 'ok' ? 1 : 0]));
  gauge('coldgate_journal_pending_records', 'Committed records not yet acknowledged by the broker.',
    Object.entries(journal.lanes).map(([lane, s]) => [{ lane }, s.records]));
  gauge('coldgate_journal_bytes', 'Bytes of unacknowledged chunks on disk.', Object.entries(journal.lanes).map(([lane, s]) => [{ lane }, s.bytes]));
  gauge('coldgate_journal_next_seq', 'Next sequence number to be assigned.', [[{}, journal.nextSeq]]);
  return `${lines.join('\n')}\n`;
}
