import { deflateRawSync, inflateRawSync, constants } from 'node:zlib';
import type { JournalRecord } from '../core/types.ts';
import { fromColumnar, seqsOf, toColumnar, type Columnar } from './columnar.ts';
import type { NameTable } from './names.ts';
import { fromRows, rowSeqs, toRows } from './rows.ts';

/**
 * One stored LevelDB value: the records of one lane from one group commit. A fixed header
 * lets retention and stats see count, first seq and age without inflating the body.
 *
 *   offset 0  u8   format (1)
 *   offset 4  u32  record count
 *   offset 8  f64  first seq (the key holds the last)
 *   offset 16 f64  commit time, epoch ms (retention by age; record clocks may be unsynced)
 *   offset 24      raw deflate of the JSON columnar form (see columnar.ts)
 * Format 2 (since the hash chain, src/chain/hash.ts) puts the lane's chain hash before the
 * chunk's first record at offset 24 (32 bytes) and the body at 56: the hash of any record in
 * the chunk is then computed from the chunk alone. Format 1 chunks (older journals) have none.
 *
 * E.g. 500 readings of 8 probes at 1 Hz, values in tenths: ~1.2 kB instead of ~60 kB of JSON.
 * Format 3 has format 2's header and a body of plain JSON rows (rows.ts) naming probes by index
 * into the journal's names (names.ts): a small commit, as a box makes every poll, needs no
 * zlib stream, whose set-up was most of such a commit's cost, and takes fewer bytes than
 * deflate gave it. Bigger commits (a backlog drained at once) stay format 2.
 */
export const CHUNK_FORMAT = 2;
export const ROWS_FORMAT = 3;
/** Up to this many records and bytes of JSON, a chunk is rows; beyond, deflate pays. */
const ROWS_MAX_RECORDS = 256;
const ROWS_MAX_BYTES = 4096;
const HEADER = 24;
const PREV_BYTES = 32;
const bodyAt = (format: number) => (format === 1 ? HEADER : HEADER + PREV_BYTES);

export interface ChunkHeader {
  count: number;
  firstSeq: number;
  committedAt: number;
  /** The chain hash before the first record (hex), absent in format 1. */
  prev?: string;
}

/**
 * The smallest deflate window that holds the whole text (zlib's least is 2^9): setting up a
 * stream zeroes its window, its chain table and its hash table, 192 KB at the default 2^15,
 * which was most of a steady commit's compression. Same output for a text that fits; raw
 * deflate records no window size, and any inflater with the default window reads it.
 */
function windowBitsFor(bytes: number): number {
  let bits = 9;
  // 262: deflate's lookahead (MIN_LOOKAHEAD), which the window must hold besides the text.
  while (bits < 15 && 1 << bits < bytes + 262) bits++;
  return bits;
}

/** `names` (the journal's) allows a row chunk; without it, or when rows do not pay, the chunk is columnar. */
export function encodeChunk(records: readonly JournalRecord[], committedAt: number, prev: string, names?: NameTable): Buffer {
  if (names && records.length <= ROWS_MAX_RECORDS) {
    const rows = toRows(records, names);
    const text = rows && JSON.stringify(rows);
    if (text !== undefined && text.length <= ROWS_MAX_BYTES) {
      // Written straight after the header: no buffer of its own to copy from.
      const bytes = Buffer.byteLength(text);
      const out = header(ROWS_FORMAT, records, committedAt, prev, bytes);
      out.write(text, HEADER + PREV_BYTES, bytes);
      return out;
    }
  }
  const json = JSON.stringify(toColumnar(records));
  const windowBits = windowBitsFor(json.length);
  // Level 1: the journal writes at ingest speed; the wire encoder compresses harder. The hash
  // table shrinks with the window (memLevel 8 at 2^15, zlib's default pairing).
  const body = deflateRawSync(json, { level: constants.Z_BEST_SPEED, windowBits, memLevel: Math.max(1, windowBits - 7) });
  return framed(CHUNK_FORMAT, records, committedAt, prev, body);
}

function framed(format: number, records: readonly JournalRecord[], committedAt: number, prev: string, body: Buffer): Buffer {
  const out = header(format, records, committedAt, prev, body.length);
  body.copy(out, HEADER + PREV_BYTES);
  return out;
}

/** A chunk of `bodyBytes` with its header written and its body still to write. */
function header(format: number, records: readonly JournalRecord[], committedAt: number, prev: string, bodyBytes: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER + PREV_BYTES + bodyBytes);
  out[0] = format;
  out[1] = out[2] = out[3] = 0;
  out.writeUInt32LE(records.length, 4);
  out.writeDoubleLE(records[0]!.seq, 8);
  out.writeDoubleLE(committedAt, 16);
  out.write(prev, HEADER, PREV_BYTES, 'hex');
  return out;
}

export function chunkHeader(value: Uint8Array): ChunkHeader {
  const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const format = b.length > 0 ? b.readUInt8(0) : 0;
  if ((format !== 1 && format !== CHUNK_FORMAT && format !== ROWS_FORMAT) || b.length < bodyAt(format)) throw new Error(`unknown journal chunk format ${b.length ? format : 'empty'}`);
  const header: ChunkHeader = { count: b.readUInt32LE(4), firstSeq: b.readDoubleLE(8), committedAt: b.readDoubleLE(16) };
  if (format !== 1) header.prev = b.toString('hex', HEADER, HEADER + PREV_BYTES);
  return header;
}

function columnsOf(value: Uint8Array): Columnar {
  return JSON.parse(inflateRawSync(value.subarray(bodyAt(value[0]!))).toString('utf8')) as Columnar;
}

function rowsText(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset + bodyAt(ROWS_FORMAT), value.byteLength - bodyAt(ROWS_FORMAT)).toString('utf8');
}

/** A row chunk (format 3) needs the journal's names to give its records back. */
export function decodeChunk(value: Uint8Array, names?: NameTable): JournalRecord[] {
  chunkHeader(value);
  if (value[0] !== ROWS_FORMAT) return fromColumnar(columnsOf(value));
  if (!names) throw new Error('a journal row chunk (format 3) needs the journal\'s names to decode');
  return fromRows(rowsText(value), names);
}

export function chunkSeqs(value: Uint8Array): number[] {
  chunkHeader(value);
  return value[0] === ROWS_FORMAT ? rowSeqs(rowsText(value)) : seqsOf(columnsOf(value));
}
