import type { DeviceHealth, JournalRecord, PositionDraft } from '../core/types.ts';
import type { RulesSnapshot } from '../rules/index.ts';

/** What the display shows and the retained `latest` message carries. */
export interface LiveSnapshot extends Omit<RulesSnapshot, 'at'> {
  gatewayId: string;
  ts: string;
  position?: Omit<PositionDraft, 'kind'> & { seq: number };
  health: DeviceHealth[];
  lastSeq: number;
}

/** The latest committed position and device health, joined with the rules' view of the cargo. */
export class LiveState {
  private position: (PositionDraft & { seq: number }) | undefined;
  private health: DeviceHealth[] = [];
  private lastSeq = 0;

  constructor(
    private readonly gatewayId: string,
    private readonly rules: () => RulesSnapshot,
  ) {}

  apply(record: JournalRecord): void {
    this.lastSeq = Math.max(this.lastSeq, record.seq);
    if (record.kind === 'position') this.position = record;
  }

  setHealth(health: DeviceHealth[]): void {
    this.health = health;
  }

  snapshot(): LiveSnapshot {
    const { at, ...rules } = this.rules();
    let position: LiveSnapshot['position'];
    if (this.position) {
      const { kind: _kind, ...rest } = this.position;
      position = rest;
    }
    return { gatewayId: this.gatewayId, ts: at, ...rules, position, health: this.health, lastSeq: this.lastSeq };
  }
}
