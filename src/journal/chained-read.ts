import type { JournalRecord } from '../core/types.ts';
import { hashesOf, type ChainHead } from '../chain/hash.ts';

/** What `Journal.readChained` gives: records, and the lane's chain hash before the first and after the last (absent for records of a journal from before the chain). */
export interface ChainedRead {
  records: JournalRecord[];
  prev?: string;
  head?: string;
}

/** What a chunk's header says: enough to decide whether it is read at all. */
export interface ChunkView {
  count: number;
  /** The chain hash before its first record (absent in chunks from before the chain). */
  prev?: string;
}

/** A chunk's records, with the hash after each once some read needed them (kept with the chunk). */
export interface DecodedChunk {
  records: JournalRecord[];
  prev?: string;
  hashes?: string[];
}

/**
 * Collects one chained read from chunks offered in key order, from the disk or from the
 * journal's tail alike. A read stops at a chunk's end when the next chunk does not fit whole:
 * each chunk's header holds the hash before it, so the head is the next chunk's `prev` (or the
 * lane's head) and the records need no hashing; only a read that starts or ends inside a chunk
 * hashes that chunk. Records from before the chain (format 1 chunks) come in reads of their own.
 */
export class ChainedReader {
  private readonly out: JournalRecord[] = [];
  private prev: string | undefined;
  private head: string | undefined;
  /** out ends where a chunk ends, and the hash there is the next chunk's prev. */
  private atChunkEnd: (DecodedChunk & { prev: string }) | undefined;

  constructor(
    /** Records at or below this seq are not wanted. */
    private readonly floor: number,
    private readonly limit: number,
    private readonly hashes: boolean,
  ) {}

  /** The next chunk; `decode` is called only if its records are wanted. False: the read ends before it. */
  add(header: ChunkView, decode: () => DecodedChunk): boolean {
    const out = this.out;
    const chained = this.hashes && header.prev !== undefined;
    if (this.atChunkEnd && chained) {
      this.head = header.prev;
      this.atChunkEnd = undefined;
    }
    if (out.length >= this.limit) return false;
    if (this.hashes && out.length > 0 && chained !== (this.head !== undefined || this.atChunkEnd !== undefined)) return false;
    // After the first chunk every record is past the floor: its count is what it adds.
    if (chained && out.length > 0 && out.length + header.count > this.limit) return false;
    const chunk = decode();
    const { records } = chunk;
    let start = 0;
    while (start < records.length && records[start]!.seq <= this.floor) start++;
    if (start === records.length) return true;
    if (chained && start === 0 && out.length + records.length <= this.limit) {
      if (out.length === 0) this.prev = chunk.prev;
      for (let i = 0; i < records.length; i++) out.push(records[i]!);
      this.atChunkEnd = chunk as DecodedChunk & { prev: string };
      return true;
    }
    if (chained) chunk.hashes ??= hashesOf(chunk.prev!, records);
    for (let i = start; i < records.length && out.length < this.limit; i++) {
      if (chained && out.length === 0) this.prev = i === 0 ? chunk.prev : chunk.hashes![i - 1];
      out.push(records[i]!);
      if (chained) this.head = chunk.hashes![i];
    }
    return true;
  }

  /** The read, given the lane's chain head now (the last chunk's end is that head, unless a commit landed since). */
  result(laneHead: ChainHead): ChainedRead {
    const end = this.atChunkEnd;
    if (end) {
      const last = this.out[this.out.length - 1]!.seq;
      this.head = laneHead.seq === last ? laneHead.hash : (end.hashes ??= hashesOf(end.prev, end.records)).at(-1);
    }
    return { records: this.out, prev: this.prev, head: this.head };
  }
}
