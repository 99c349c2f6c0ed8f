import { closeSync, createReadStream, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { constants, createGunzip, gzipSync } from 'node:zlib';
import type { PositionDraft, TemperatureDraft, TimeQuality } from '../core/types.ts';
import type { JournalRecord } from '../core/types.ts';
import { fromColumnar, toColumnar, type Columnar } from '../journal/columnar.ts';
import type { TripChain } from './chain.ts';
import type { TripReport } from './trip.ts';

/**
 * One ended trip, one file: `{tripId}.trip.gz`, gzip of NDJSON lines.
 *   line 1      the header (TripHeader: report, probes, episodes, time quality, counts, and
 *               since coldgate.trip/2 `chain`: the trip's runs of the hash chain, signed)
 *   line 2      {"events": [...]}  (coldgate.trip/2) the events-lane records inside those runs
 *   lines 3..n  {"columnar": Columnar}  readings and positions with their journal seq, in
 *               chunks of at most CHUNK_RECORDS (src/journal/columnar.ts: delta-coded columns)
 *   then        {"unsequenced": [...]}  readings whose journal seq is not known (the box
 *               stopped between spooling and committing them, or the disk refused them)
 *   last        {"end": {"records": N}}
 * It is written to a temporary name, fsynced, renamed and the folder fsynced: the rename is
 * the commit, so a half-written trip is never listed. The header comes first so that a list of
 * a year of trips reads a few hundred bytes of each file.
 */
export const FORMAT = 'coldgate.trip/2';
/** Files from before the chain was archived: read alike, but they have no `chain` (no bundle). */
export const FORMAT_V1 = 'coldgate.trip/1';
export const TRIP_SUFFIX = '.trip.gz';
/** What an id may look like in a file name or a URL: the gateway id's alphabet, no "/" and no leading dot. */
export const TRIP_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const CHUNK_RECORDS = 50_000;

export interface ProbeMeta {
  id: string;
  compartment?: string;
  bus?: string;
  unit?: number;
  address?: number;
  profile?: string;
}

/** A door or defrost input's on-period while the trip ran, and the compartments it suppresses for. */
export interface InputEpisode {
  input: string;
  uses: { compartment: string; cause: 'door' | 'defrost' }[];
  from: string;
  /** Absent: still on when the trip ended. */
  to?: string;
}

export interface TripHeader {
  format: typeof FORMAT | typeof FORMAT_V1;
  gatewayId: string;
  tripId: string;
  startedAt: string;
  /** The report's end, or when it was archived if the end was never recorded. */
  endedAt: string;
  archivedAt: string;
  /** null: the trip's end was never recorded (the rules state of the box was lost); the readings are all there. */
  report: TripReport | null;
  probes: ProbeMeta[];
  episodes: InputEpisode[];
  timeQuality: { readings: Record<TimeQuality, number>; synchronisedAtEnd: boolean };
  counts: { readings: number; good: number; positions: number; unsequenced: number; dropped: number };
  /** Sentences: why this trip's record is not whole, if it is not. */
  incomplete?: string[];
  /** The trip's part of the hash chain (src/trips/chain.ts); absent in coldgate.trip/1 files. */
  chain?: TripChain;
}

export type ArchivedRecord = (TemperatureDraft | PositionDraft) & { seq?: number };

/** The body lines of a trip file: columnar chunks of the sequenced records as they come, then the rest. */
export async function* bodyLines(batches: AsyncIterable<readonly ArchivedRecord[]>, events: readonly JournalRecord[]): AsyncGenerator<string> {
  yield JSON.stringify({ events });
  let chunk: ArchivedRecord[] = [];
  const unsequenced: ArchivedRecord[] = [];
  let n = 0;
  for await (const batch of batches) {
    for (const r of batch) {
      n++;
      if (r.seq === undefined) unsequenced.push(r);
      else chunk.push(r);
    }
    if (chunk.length >= CHUNK_RECORDS) {
      yield JSON.stringify({ columnar: toColumnar(chunk as JournalRecord[]) });
      chunk = [];
    }
  }
  if (chunk.length > 0) yield JSON.stringify({ columnar: toColumnar(chunk as JournalRecord[]) });
  if (unsequenced.length > 0) yield JSON.stringify({ unsequenced });
  yield JSON.stringify({ end: { records: n } });
}

/** Writes `{dir}/{tripId}.trip.gz` atomically; returns its size in bytes. */
export async function writeTripFile(dir: string, header: TripHeader, body: AsyncIterable<string>): Promise<number> {
  if (!TRIP_ID.test(header.tripId)) throw new Error(`trip id ${JSON.stringify(header.tripId)} cannot name a file in ${dir}`);
  const final = path.join(dir, `${header.tripId}${TRIP_SUFFIX}`);
  const temp = path.join(dir, `.${header.tripId}.${process.pid}.tmp`);
  const fd = openSync(temp, 'w', 0o640);
  // One gzip member per line: each is compressed on its own (bounded memory), and the
  // concatenation is one valid gzip stream for gunzip, zcat and Python alike.
  const put = (line: string) => writeSync(fd, gzipSync(`${line}\n`, { level: constants.Z_BEST_COMPRESSION }));
  let bytes = 0;
  try {
    bytes += put(JSON.stringify(header));
    for await (const line of body) bytes += put(line);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkSync(temp);
    throw err;
  }
  closeSync(fd);
  renameSync(temp, final);
  syncDir(dir);
  return bytes;
}

export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The lines of a trip file, decompressed as they are read (a year of headers reads little). */
export async function* tripLines(file: string): AsyncGenerator<string> {
  const input = createReadStream(file).pipe(createGunzip());
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    for await (const line of lines) yield line;
  } finally {
    lines.close();
    input.destroy();
  }
}

export class TripFileError extends Error {}

export async function readHeader(file: string): Promise<TripHeader> {
  for await (const line of tripLines(file)) {
    const h = JSON.parse(line) as TripHeader;
    if (h.format !== FORMAT && h.format !== FORMAT_V1) throw new TripFileError(`${file}: not a coldgate trip file this version reads (format ${JSON.stringify(h.format)}, expected ${FORMAT} or ${FORMAT_V1})`);
    return h;
  }
  throw new TripFileError(`${file}: empty trip file`);
}

/** The events-lane records a coldgate.trip/2 file keeps with its chain (none in /1). */
export async function tripEvents(file: string): Promise<JournalRecord[]> {
  let n = 0;
  for await (const line of tripLines(file)) {
    if (n++ === 0) continue;
    return (JSON.parse(line) as { events?: JournalRecord[] }).events ?? [];
  }
  return [];
}

/** Every archived reading and position of a trip, in the file's order, a chunk at a time. */
export async function* tripRecords(file: string): AsyncGenerator<ArchivedRecord[]> {
  let first = true;
  for await (const line of tripLines(file)) {
    if (first) {
      first = false;
      continue;
    }
    const l = JSON.parse(line) as { columnar?: Columnar; unsequenced?: ArchivedRecord[] };
    if (l.columnar) yield fromColumnar(l.columnar) as ArchivedRecord[];
    if (l.unsequenced) yield l.unsequenced;
  }
}
