import type { Logger } from '../core/log.ts';
import type { EndToEndConfig } from '../config/schema-uplink.ts';
import type { Journal } from '../journal/journal.ts';
import { readCommitted, type IgnoredKind } from './committed.ts';

/** Journal state (putState) that says a receiver has answered for this journal, and how far. */
export const END_TO_END_STATE = 'uplink.endToEnd';
/** The resend wait doubles while the receiver's mark stands still, up to this. */
export const MAX_RESEND_WAIT_MS = 600_000;

export interface EndToEndState {
  incarnation: string;
  committedThrough: number;
}

/** The persisted state, or undefined when there is none or it is not ours (`coldgate journal stats` reads it too). */
export async function readEndToEndState(journal: Journal): Promise<EndToEndState | undefined> {
  const raw = await journal.readState(END_TO_END_STATE);
  if (!raw) return undefined;
  try {
    const s = JSON.parse(raw.toString()) as Partial<EndToEndState>;
    if (s.incarnation !== journal.stats().incarnation || typeof s.committedThrough !== 'number') return undefined;
    return { incarnation: s.incarnation, committedThrough: s.committedThrough };
  } catch {
    return undefined;
  }
}

/**
 * The receiver's committed mark for this journal. Inactive (mode auto, no receiver has
 * answered yet, or mode off) the journal is acked on PUBACK as always; once a valid committed
 * message for this incarnation arrived it is active for good (persisted in the journal), and
 * the journal is acked only through min(PUBACKed, committed). The mark only rises: receivers
 * race, so a lower value may come after a higher one.
 */
export class CommitMark {
  active = false;
  through = 0;
  private readonly warned = new Set<IgnoredKind>();

  constructor(
    private readonly cfg: EndToEndConfig,
    private readonly journal: Journal,
    private readonly log: Logger,
    private readonly gatewayId: string,
  ) {}

  async load(): Promise<void> {
    if (this.cfg.mode === 'off') return;
    const state = await readEndToEndState(this.journal);
    if (!state) return;
    this.active = true;
    this.through = state.committedThrough;
    this.log.info({ committedThrough: this.through }, 'end-to-end acknowledgement: records stay in the journal until the receiver has stored them');
  }

  /** A message on the committed topic; true when the mark rose. Anything else changes nothing. */
  receive(payload: Buffer): boolean {
    if (this.cfg.mode === 'off') return false;
    const incarnation = this.journal.stats().incarnation;
    const m = readCommitted(payload, this.gatewayId, incarnation);
    if (!m.ok) {
      if (!this.warned.has(m.kind)) this.log.warn({ kind: m.kind, detail: m.detail }, 'committed message ignored (said once per kind)');
      this.warned.add(m.kind);
      return false;
    }
    if (this.active && m.through <= this.through) return false;
    if (!this.active) this.log.info({ committedThrough: m.through }, 'a receiver answered: records now stay in the journal until it has stored them');
    this.active = true;
    this.through = m.through;
    const state: EndToEndState = { incarnation, committedThrough: m.through };
    // Kept by the journal and written with the next commit that works: a lost mark is only a resend.
    this.journal.putState(END_TO_END_STATE, Buffer.from(JSON.stringify(state))).catch((err: Error) => this.log.warn({ err: err.message }, 'committed mark not saved yet'));
    return true;
  }

  /** How far the journal may let go of a lane whose batches are PUBACKed through `pubacked`. */
  ackLimit(pubacked: number): number {
    return this.active ? Math.min(pubacked, this.through) : pubacked;
  }
}
