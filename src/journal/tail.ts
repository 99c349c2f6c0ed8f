import type { JournalRecord } from '../core/types.ts';

/** A chunk this process committed, kept decoded: the uplink reads it back seconds later. */
export interface TailChunk {
  key: string;
  lastSeq: number;
  /** Key and value bytes, as stored (what the lane's `bytes` counts). */
  bytes: number;
  count: number;
  /** The lane's chain hash before the chunk's first record. */
  prev: string;
  records: JournalRecord[];
  /** The hash after each record, computed when a read starts or ends inside the chunk. */
  hashes?: string[];
}

/**
 * One lane's newest stored chunks, decoded, in key order: every stored chunk keyed after
 * `after` is here. A read or an ack from at or after `after` then needs no LevelDB iterator,
 * no inflate and no parse; at steady state those were a fifth of the journal's CPU time (a
 * batch is read back seconds after its commit). Bounded by `maxRecords`: past it the oldest
 * chunks leave, and `after` moves past them (reads from there go to the disk again).
 */
export class Tail {
  private chunks: TailChunk[] = [];
  private records = 0;

  constructor(
    private after: number,
    private readonly maxRecords: number,
  ) {}

  /** Whether every stored chunk keyed after `seq` is here. */
  covers(seq: number): boolean {
    return seq >= this.after;
  }

  add(chunk: TailChunk): void {
    this.chunks.push(chunk);
    this.records += chunk.count;
    while (this.records > this.maxRecords) this.after = this.take().lastSeq;
  }

  /** The chunks keyed after `seq`, in order (callers check `covers(seq)` first). */
  *from(seq: number): Generator<TailChunk> {
    for (const chunk of this.chunks) if (chunk.lastSeq > seq) yield chunk;
  }

  first(): TailChunk | undefined {
    return this.chunks[0];
  }

  /** Every chunk keyed at or below `seq` was deleted (acked or dropped): they leave, and are returned. */
  deleted(seq: number): TailChunk[] {
    const gone: TailChunk[] = [];
    while (this.chunks.length > 0 && this.chunks[0]!.lastSeq <= seq) gone.push(this.take());
    this.after = Math.max(this.after, seq);
    return gone;
  }

  /** Forget everything: only chunks keyed after `after` (none yet) will be here. */
  reset(after: number): void {
    this.chunks = [];
    this.records = 0;
    this.after = after;
  }

  private take(): TailChunk {
    const chunk = this.chunks.shift()!;
    this.records -= chunk.count;
    return chunk;
  }
}
