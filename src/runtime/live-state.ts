import type { CompartmentConfig } from '../config/schema-compartments.ts';
import type { DeviceHealth, JournalRecord, PositionDraft, TemperatureDraft } from '../core/types.ts';

export interface CompartmentView {
  id: string;
  name: string;
  /** Warmest good reading of its probes: the one that spoils the cargo first. */
  value: number | null;
  low?: number;
  high?: number;
  state: 'ok' | 'out-of-range' | 'no-data';
  probes: { id: string; value: number | null; quality: TemperatureDraft['quality']; ts: string; error?: string }[];
}

export interface LiveSnapshot {
  gatewayId: string;
  ts: string;
  compartments: CompartmentView[];
  position?: Omit<PositionDraft, 'kind'> & { seq: number };
  health: DeviceHealth[];
  lastSeq: number;
}

/** The latest committed readings, for the display and the retained `latest` message. */
export class LiveState {
  private readonly probes = new Map<string, TemperatureDraft & { seq: number }>();
  private position: (PositionDraft & { seq: number }) | undefined;
  private health: DeviceHealth[] = [];
  private lastSeq = 0;

  constructor(
    private readonly gatewayId: string,
    private readonly compartments: CompartmentConfig[],
    private readonly probeCompartment: Map<string, string | undefined>,
  ) {}

  apply(record: JournalRecord): void {
    this.lastSeq = Math.max(this.lastSeq, record.seq);
    if (record.kind === 'temperature') this.probes.set(record.probe, record);
    else if (record.kind === 'position') this.position = record;
  }

  setHealth(health: DeviceHealth[]): void {
    this.health = health;
  }

  snapshot(): LiveSnapshot {
    const compartments = this.compartments.map((c): CompartmentView => {
      const probes = [...this.probeCompartment].filter(([, comp]) => comp === c.id).map(([id]) => this.probes.get(id));
      const readings = probes.filter((p) => p !== undefined);
      const good = readings.filter((p) => p.quality === 'good' && p.value !== null).map((p) => p.value as number);
      const value = good.length ? Math.max(...good) : null;
      const out = value !== null && ((c.high !== undefined && value > c.high) || (c.low !== undefined && value < c.low));
      return {
        id: c.id,
        name: c.name,
        value,
        low: c.low,
        high: c.high,
        state: value === null ? 'no-data' : out ? 'out-of-range' : 'ok',
        probes: readings.map((p) => ({ id: p.probe, value: p.value, quality: p.quality, ts: p.ts, error: p.error })),
      };
    });
    const { kind: _kind, ...position } = this.position ?? { kind: 'position' };
    return {
      gatewayId: this.gatewayId,
      ts: new Date().toISOString(),
      compartments,
      position: this.position ? (position as LiveSnapshot['position']) : undefined,
      health: this.health,
      lastSeq: this.lastSeq,
    };
  }
}
