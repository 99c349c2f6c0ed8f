/**
 * `committed` publications (contract: coldgate/v1/{G}/committed, retained, QoS 1), coalesced:
 * at most one per gateway per `everyMs`, carrying the latest value. Within one incarnation a
 * lower value never replaces a higher one (this receiver's commits race each other only in
 * the order their results come back).
 */
export const COMMITTED_SCHEMA = 'coldgate.committed/1';

export interface CommittedMessage {
  schema: typeof COMMITTED_SCHEMA;
  gatewayId: string;
  incarnation: string;
  contiguousThrough: number;
  at: string;
}

interface Slot {
  incarnation: string;
  contiguousThrough: number;
  lastAt: number;
  timer?: NodeJS.Timeout;
  pending: boolean;
}

export class CommittedPublisher {
  private readonly slots = new Map<string, Slot>();
  private closed = false;

  constructor(
    private readonly everyMs: number,
    private readonly publish: (m: CommittedMessage) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * `repeat`: publish even an unchanged value. A box that resends records already stored has
   * not seen the last committed (a broker that restarted without persistence forgets retained
   * messages); without it, it would resend them forever.
   */
  offer(gatewayId: string, incarnation: string, contiguousThrough: number, repeat = false): void {
    // A transaction that commits while the receiver stops: its value is stored, the next receiver publishes it.
    if (this.closed) return;
    let slot = this.slots.get(gatewayId);
    if (!slot) this.slots.set(gatewayId, (slot = { incarnation, contiguousThrough, lastAt: -Infinity, pending: false }));
    else if (slot.incarnation === incarnation && !slot.pending && (contiguousThrough < slot.contiguousThrough || (contiguousThrough === slot.contiguousThrough && !repeat))) return;
    if (slot.incarnation !== incarnation || contiguousThrough > slot.contiguousThrough) {
      slot.incarnation = incarnation;
      slot.contiguousThrough = contiguousThrough;
    }
    slot.pending = true;
    const wait = slot.lastAt + this.everyMs - this.now();
    if (wait <= 0) this.flush(gatewayId, slot);
    else slot.timer ??= setTimeout(() => this.flush(gatewayId, slot), wait);
  }

  private flush(gatewayId: string, slot: Slot): void {
    slot.timer = undefined;
    if (!slot.pending) return;
    slot.pending = false;
    slot.lastAt = this.now();
    this.publish({ schema: COMMITTED_SCHEMA, gatewayId, incarnation: slot.incarnation, contiguousThrough: slot.contiguousThrough, at: new Date(slot.lastAt).toISOString() });
  }

  /** Publishes what is pending now and nothing after (on stop, before the MQTT client ends). */
  close(): void {
    this.closed = true;
    for (const [g, slot] of this.slots) {
      clearTimeout(slot.timer);
      this.flush(g, slot);
    }
  }
}
