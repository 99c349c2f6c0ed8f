import type { GapDraft } from '../core/types.ts';
import type { ChunkHeader } from './chunk.ts';

/** Where a lane stands; persisted with every write that changes it (see keys.ts). */
export interface LaneMeta {
  /** Highest seq the broker has PUBACKed on this lane. */
  ackedThrough: number;
  /** Every chunk keyed at or below this seq is gone (acked or dropped): reads and deletes start after it. */
  deletedThrough: number;
  /** Records and bytes (key + value) of the chunks still stored, acked or not. */
  count: number;
  bytes: number;
  /** Readings retention ever dropped on this lane. */
  dropped: number;
}

export interface StoredChunk {
  key: string;
  lastSeq: number;
  bytes: number;
  header: ChunkHeader;
}

export type DropReason = 'max-bytes' | 'max-age';

export interface RetentionInput {
  telemetry: LaneMeta;
  /** Records of the first stored telemetry chunk that are already acked (they are not "dropped"). */
  headAcked: number;
  /** Bytes the journal will hold besides telemetry: events plus what this commit adds. */
  otherBytes: number;
  maxBytes: number;
  maxAgeMs: number;
  now: number;
  /**
   * No stored telemetry chunk was committed before this (the last front chunk seen: later
   * chunks are committed after it). While it is younger than maxAge and the journal fits,
   * nothing can go and the front is not looked up (a LevelDB iterator after every ack).
   */
  committedSince?: number;
  /** The first stored telemetry chunk keyed after `seq`. */
  nextChunk: (seq: number) => Promise<StoredChunk | undefined>;
}

export interface RetentionPlan {
  deletes: string[];
  gaps: GapDraft[];
  /** The telemetry lane after the drops. */
  telemetry: LaneMeta;
  /** Still over maxBytes with no telemetry left to drop (events are never dropped). */
  overflowing: boolean;
}

/**
 * Oldest telemetry goes first, whole chunks at a time, while the journal would exceed
 * maxBytes or the chunk is older than maxAge; events are never touched. Each contiguous run
 * dropped for one reason becomes one gap record. E.g. maxBytes 100, events 20, telemetry chunks
 * [seq 1-40: 50 B, 41-80: 50 B], commit adds 30 B -> 150 > 100: drop 1-40 -> 100, fits;
 * gap {fromSeq 1, toSeq 40, count 40, reason 'max-bytes'}.
 */
/** Whether nothing can go without looking: the journal fits and no stored telemetry can be older than maxAge. */
function fitsAndYoung(input: RetentionInput, telemetryBytes: number): boolean {
  return input.otherBytes + telemetryBytes <= input.maxBytes && input.committedSince !== undefined && input.now - input.committedSince <= input.maxAgeMs;
}

/**
 * planRetention for the common commit, synchronously: undefined when something may have to go
 * (then ask planRetention). A steady commit then awaits nothing but its write.
 */
export function keepAll(input: RetentionInput): RetentionPlan | undefined {
  if (!fitsAndYoung(input, input.telemetry.bytes)) return undefined;
  return { deletes: [], gaps: [], telemetry: { ...input.telemetry }, overflowing: false };
}

export async function planRetention(input: RetentionInput): Promise<RetentionPlan> {
  const t = { ...input.telemetry };
  const deletes: string[] = [];
  const gaps: GapDraft[] = [];
  let headAcked = input.headAcked;
  let overflowing = false;
  for (;;) {
    const over = input.otherBytes + t.bytes > input.maxBytes;
    if (fitsAndYoung(input, t.bytes)) break;
    const head = await input.nextChunk(t.deletedThrough);
    if (!head) {
      overflowing = over;
      break;
    }
    const old = input.now - head.header.committedAt > input.maxAgeMs;
    if (!over && !old) break;
    const reason: DropReason = over ? 'max-bytes' : 'max-age';
    const fromSeq = Math.max(head.header.firstSeq, t.ackedThrough + 1);
    const count = head.header.count - headAcked;
    const last = gaps[gaps.length - 1];
    if (last && last.reason === reason) {
      last.toSeq = head.lastSeq;
      last.count += count;
    } else {
      gaps.push({ kind: 'gap', ts: new Date(input.now).toISOString(), tq: 'system', fromSeq, toSeq: head.lastSeq, count, reason });
    }
    deletes.push(head.key);
    t.bytes -= head.bytes;
    t.count -= head.header.count;
    t.deletedThrough = head.lastSeq;
    t.dropped += count;
    headAcked = 0;
  }
  return { deletes, gaps, telemetry: t, overflowing };
}
