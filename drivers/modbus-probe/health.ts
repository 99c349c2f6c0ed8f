import type { DeviceHealth, DeviceState } from '../../src/core/types.ts';
import type { CommsFaultKind } from './faults.ts';

/** Comms failures in a row after which a probe counts as offline rather than degraded. */
const OFFLINE_AFTER = 3;

export type ProbeCounts = Record<'polls' | 'good' | 'sensorFault' | CommsFaultKind, number>;

/** What the display, /metrics and the probe-fault alarm need to know about one probe. */
export class ProbeHealth {
  private state: DeviceState = 'starting';
  private detail: string | undefined = 'not polled yet';
  private lastValue: number | undefined;
  private lastOkAt: string | undefined;
  private errorsInARow = 0;
  readonly counts: ProbeCounts = { polls: 0, good: 0, sensorFault: 0, timeout: 0, backoff: 0, crc: 0, exception: 0, disconnected: 0, io: 0 };

  constructor(
    readonly id: string,
    private readonly bus: string,
    private readonly unit: number,
  ) {}

  good(value: number, ts: string): void {
    this.counts.polls += 1;
    this.counts.good += 1;
    this.state = 'ok';
    this.detail = undefined;
    this.lastValue = value;
    this.lastOkAt = ts;
    this.errorsInARow = 0;
  }

  sensorFault(reason: string): void {
    this.counts.polls += 1;
    this.counts.sensorFault += 1;
    this.errorsInARow += 1;
    this.state = 'degraded';
    this.detail = `sensor fault: ${reason}`;
  }

  commsError(kind: CommsFaultKind, text: string): void {
    this.counts.polls += 1;
    this.counts[kind] += 1;
    this.errorsInARow += 1;
    this.state = this.errorsInARow >= OFFLINE_AFTER || kind === 'backoff' ? 'offline' : 'degraded';
    this.detail = text;
  }

  /** Whether the last poll failed; the driver logs when this flips, not on every poll. */
  get failing(): boolean {
    return this.errorsInARow > 0;
  }

  /** Asked for every second (the runtime's health sweep): optional fields set after the fact, not spread in. */
  snapshot(): DeviceHealth {
    const h: DeviceHealth = { id: this.id, kind: 'probe', state: this.state };
    if (this.detail !== undefined) h.detail = this.detail;
    if (this.lastOkAt !== undefined) h.lastOkAt = this.lastOkAt;
    h.errors = this.counts.polls - this.counts.good;
    h.bus = this.bus;
    h.unit = this.unit;
    if (this.lastValue !== undefined) h.lastValue = this.lastValue;
    h.errorsInARow = this.errorsInARow;
    h.counts = { ...this.counts };
    return h;
  }
}
