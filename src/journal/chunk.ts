import { deflateRawSync, inflateRawSync, constants } from 'node:zlib';
import type { JournalRecord } from '../core/types.ts';
import { fromColumnar, seqsOf, toColumnar, type Columnar } from './columnar.ts';

/**
 * One stored LevelDB value: the records of one lane from one group commit. A fixed header
 * lets retention and stats see count, first seq and age without inflating the body.
 *
 *   offset 0  u8   format (1)
 *   offset 4  u32  record count
 *   offset 8  f64  first seq (the key holds the last)
 *   offset 16 f64  commit time, epoch ms (retention by age; record clocks may be unsynced)
 *   offset 24      raw deflate of the JSON columnar form (see columnar.ts)
 *
 * E.g. 500 readings of 8 probes at 1 Hz, values in tenths: ~1.2 kB instead of ~60 kB of JSON.
 */
export const CHUNK_FORMAT = 1;
const HEADER = 24;

export interface ChunkHeader {
  count: number;
  firstSeq: number;
  committedAt: number;
}

export function encodeChunk(records: readonly JournalRecord[], committedAt: number): Buffer {
  // Level 1: the journal writes at ingest speed; the wire encoder compresses harder.
  const body = deflateRawSync(JSON.stringify(toColumnar(records)), { level: constants.Z_BEST_SPEED });
  const out = Buffer.allocUnsafe(HEADER + body.length);
  out.writeUInt8(CHUNK_FORMAT, 0);
  out.fill(0, 1, 4);
  out.writeUInt32LE(records.length, 4);
  out.writeDoubleLE(records[0]!.seq, 8);
  out.writeDoubleLE(committedAt, 16);
  body.copy(out, HEADER);
  return out;
}

export function chunkHeader(value: Uint8Array): ChunkHeader {
  const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (b.length < HEADER || b.readUInt8(0) !== CHUNK_FORMAT) throw new Error(`unknown journal chunk format ${b.length ? b.readUInt8(0) : 'empty'}`);
  return { count: b.readUInt32LE(4), firstSeq: b.readDoubleLE(8), committedAt: b.readDoubleLE(16) };
}

function columnsOf(value: Uint8Array): Columnar {
  chunkHeader(value);
  return JSON.parse(inflateRawSync(value.subarray(HEADER)).toString('utf8')) as Columnar;
}

export function decodeChunk(value: Uint8Array): JournalRecord[] {
  return fromColumnar(columnsOf(value));
}

export function chunkSeqs(value: Uint8Array): number[] {
  return seqsOf(columnsOf(value));
}
