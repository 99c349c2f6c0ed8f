import type { DeviceHealth, JournalRecord, PositionDraft, RecordDraft } from '../core/types.ts';
import type { RulesEngine, RulesSnapshot } from '../rules/index.ts';

/** What the display shows and the retained `latest` message carries. */
export interface LiveSnapshot extends Omit<RulesSnapshot, 'at'> {
  gatewayId: string;
  ts: string;
  /** The latest position a driver handed over; `seq` once the journal has recorded it. */
  position?: Omit<PositionDraft, 'kind'> & { seq?: number };
  health: DeviceHealth[];
  lastSeq: number;
}

/** The latest position and device health, joined with the rules' view of the cargo. */
export class LiveState {
  private position: LiveSnapshot['position'];
  /** The draft behind `position`: the journal turns that very object into the record. */
  private positionDraft: PositionDraft | undefined;
  private health: DeviceHealth[] = [];
  private lastSeq = 0;

  constructor(
    private readonly gatewayId: string,
    private readonly rules: Pick<RulesEngine, 'snapshot' | 'status'>,
  ) {}

  /** A reading as a driver handed it over: shown at once, whether or not the disk takes it. */
  observe(draft: RecordDraft): void {
    if (draft.kind !== 'position') return;
    const { kind: _kind, ...rest } = draft;
    this.position = rest;
    this.positionDraft = draft;
  }

  /** Records the journal committed: the latest seq, and the shown position's. */
  committed(records: readonly JournalRecord[]): void {
    // Indexed: this runs for every reading, and a for-of step allocates outside optimised code.
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      this.lastSeq = Math.max(this.lastSeq, record.seq);
      if (record === this.positionDraft && this.position) this.position = { ...this.position, seq: record.seq };
    }
  }

  setHealth(health: DeviceHealth[]): void {
    this.health = health;
  }

  /**
   * What a person or a dispatcher acts on (compartment states and display, open alarms, trip,
   * gate, device states), as one string: equal strings, nothing worth a `latest` at once.
   * Values, counters and timestamps are left out: they change every second and reach the cloud
   * in telemetry. Cheap (no snapshot): the runtime asks every second.
   */
  changeKey(): string {
    const s = this.rules.status();
    // Device states appended as text, not as an array per device for JSON: a probe a line.
    let devices = '';
    for (let i = 0; i < this.health.length; i++) devices += `\n${this.health[i]!.id}\t${this.health[i]!.state}`;
    return (
      JSON.stringify({
        compartments: s.compartments.map((c) => [c.id, c.state, c.suppressedBy, c.display]),
        alarms: s.alarms,
        trip: s.tripId,
        gate: s.gate,
      }) + devices
    );
  }

  snapshot(): LiveSnapshot {
    const { at, ...rules } = this.rules.snapshot();
    return { gatewayId: this.gatewayId, ts: at, ...rules, position: this.position, health: this.health, lastSeq: this.lastSeq };
  }
}
