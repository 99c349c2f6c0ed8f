import { appendFileSync, existsSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { GatewayConfig } from '../config/schema.ts';
import type { Logger } from '../core/log.ts';
import { readHeader, syncDir, TRIP_ID, TRIP_SUFFIX, TripFileError, writeTripFile, type TripHeader } from './archive-file.ts';

export interface ArchiveEntry {
  header: TripHeader;
  file: string;
  bytes: number;
}

export interface PrunedTrip {
  tripId: string;
  startedAt: string;
  endedAt: string;
  bytes: number;
  readings: number;
  reason: 'age' | 'bytes';
  prunedAt: string;
}

export interface ArchiveLimits {
  maxBytes: number;
  maxAgeDays: number;
}

export const PRUNED_LOG = 'pruned.ndjson';
const DAY_MS = 86_400_000;

/** `archive.dir` (relative to dataDir) or `{dataDir}/trips`. */
export function archiveDir(cfg: Pick<GatewayConfig, 'dataDir' | 'archive'>): string {
  return path.resolve(cfg.dataDir, cfg.archive.dir ?? 'trips');
}

/**
 * The folder of ended trips: one file each, written atomically by the gateway and read by
 * anyone (the CLI, the display) at the same time, since nothing is locked. Pruned oldest-first
 * by age and bytes; every pruned trip is a line in pruned.ndjson.
 */
export class TripArchive {
  /** The gateway's own view, filled by the first list; only the gateway writes the folder. */
  private index: Map<string, ArchiveEntry> | undefined;

  constructor(
    readonly dir: string,
    private readonly limits: ArchiveLimits,
    private readonly log: Logger,
  ) {}

  /** Makes the folder if needed (the gateway; readers never create it). */
  create(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
  }

  /** Every archived trip, oldest end first. Files that are not trips (a stray copy) are logged and left out. */
  async list(): Promise<ArchiveEntry[]> {
    if (!this.index) {
      const index = new Map<string, ArchiveEntry>();
      for (const name of existsSync(this.dir) ? readdirSync(this.dir) : []) {
        const id = name.slice(0, -TRIP_SUFFIX.length);
        if (!name.endsWith(TRIP_SUFFIX) || !TRIP_ID.test(id)) continue;
        const entry = await this.read(id);
        if (entry) index.set(id, entry);
      }
      this.index = index;
    }
    return [...this.index.values()].sort((a, b) => a.header.endedAt.localeCompare(b.header.endedAt));
  }

  /** One trip by id; undefined for an id that is not archived (or not a valid id at all). */
  async get(id: string): Promise<ArchiveEntry | undefined> {
    if (!TRIP_ID.test(id)) return undefined;
    return this.index ? this.index.get(id) : this.read(id);
  }

  private async read(id: string): Promise<ArchiveEntry | undefined> {
    const file = path.join(this.dir, `${id}${TRIP_SUFFIX}`);
    if (!existsSync(file)) return undefined;
    try {
      return { header: await readHeader(file), file, bytes: statSync(file).size };
    } catch (err) {
      const reason = err instanceof TripFileError ? err.message : `${file}: ${(err as Error).message}`;
      this.log.warn({ file, reason }, 'trip archive: unreadable file left out (move it away, or delete it)');
      return undefined;
    }
  }

  /** Writes one ended trip; returns its entry. */
  async store(header: TripHeader, body: AsyncIterable<string>): Promise<ArchiveEntry> {
    await this.list();
    const bytes = await writeTripFile(this.dir, header, body);
    const entry = { header, file: path.join(this.dir, `${header.tripId}${TRIP_SUFFIX}`), bytes };
    this.index!.set(header.tripId, entry);
    return entry;
  }

  /**
   * Removes trips that ended more than maxAgeDays before `nowMs`, then the oldest while the
   * archive holds more than maxBytes (the newest trip is always kept: archive.maxTripBytes is
   * at most maxBytes). Each is logged in pruned.ndjson (fsynced) before its file goes.
   */
  async prune(nowMs: number): Promise<PrunedTrip[]> {
    const entries = await this.list();
    const pruned: PrunedTrip[] = [];
    let total = entries.reduce((sum, e) => sum + e.bytes, 0);
    const cutoff = nowMs - this.limits.maxAgeDays * DAY_MS;
    entries.forEach((e, i) => {
      const old = Date.parse(e.header.endedAt) < cutoff;
      const over = total > this.limits.maxBytes && i < entries.length - 1;
      if (!old && !over) return;
      const p: PrunedTrip = { tripId: e.header.tripId, startedAt: e.header.startedAt, endedAt: e.header.endedAt, bytes: e.bytes, readings: e.header.counts.readings, reason: old ? 'age' : 'bytes', prunedAt: new Date(nowMs).toISOString() };
      appendFileSync(path.join(this.dir, PRUNED_LOG), `${JSON.stringify(p)}\n`, { flush: true });
      unlinkSync(e.file);
      this.index!.delete(e.header.tripId);
      total -= e.bytes;
      pruned.push(p);
    });
    if (pruned.length > 0) syncDir(this.dir);
    return pruned;
  }

  /** Bytes the archived trips take. */
  async bytes(): Promise<number> {
    return (await this.list()).reduce((sum, e) => sum + e.bytes, 0);
  }
}

/** One line of a trip list (`coldgate trips list`, `/api/trips`). */
export interface TripSummary {
  tripId: string;
  startedAt: string;
  endedAt: string;
  durationMin: number | null;
  /** null: no report (the end was not recorded). */
  clean: boolean | null;
  readings: number;
  positions: number;
  bytes: number;
  incomplete?: string[];
}

export function tripSummary(e: ArchiveEntry): TripSummary {
  const h = e.header;
  return {
    tripId: h.tripId,
    startedAt: h.startedAt,
    endedAt: h.endedAt,
    durationMin: h.report?.durationMin ?? null,
    clean: h.report?.clean ?? null,
    readings: h.counts.readings,
    positions: h.counts.positions,
    bytes: e.bytes,
    ...(h.incomplete && { incomplete: h.incomplete }),
  };
}

/** A trip id from outside (a URL, a command, the command line) checked before it names a file. */
export function checkTripId(id: unknown): string | undefined {
  return typeof id === 'string' && TRIP_ID.test(id) ? undefined : `bad trip id ${JSON.stringify(String(id).slice(0, 120))}: expected 1-100 letters, digits, "_", "." or "-", starting with a letter or digit (as trips list shows them)`;
}

/** A reply with one trip's record, without its readings, that fits `maxBytes` of JSON (a remote command, the events lane). */
export function tripRecord(h: TripHeader, maxBytes: number): { trip: TripHeader; truncated?: string } {
  const bytes = Buffer.byteLength(JSON.stringify(h));
  if (bytes <= maxBytes || !h.report) return { trip: h };
  // Alarms and gate evidence are what grows with a long bad trip; the figures per compartment stay.
  const report = { ...h.report, alarms: h.report.alarms.slice(0, 20), entries: h.report.entries.map((e) => ({ ...e, evidence: { alarms: [], budgets: e.evidence.budgets } })) };
  return { trip: { ...h, report, episodes: h.episodes.slice(0, 100) }, truncated: `${bytes} bytes is over ${maxBytes}: the first 20 alarms, 100 input episodes and no gate alarm evidence are here; coldgate trips show ${h.tripId} --json on the box has all of it` };
}
