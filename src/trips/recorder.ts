import { existsSync, readdirSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { GatewayConfig } from '../config/schema.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { EventDraft, JournalRecord, PositionDraft, RecordDraft, TemperatureDraft } from '../core/types.ts';
import { bodyLines, FORMAT, syncDir, TRIP_ID, TRIP_SUFFIX, type InputEpisode, type ProbeMeta, type TripHeader } from './archive-file.ts';
import type { TripArchive } from './archive.ts';
import type { BoxKey } from '../chain/keys.ts';
import { signTripHeader } from '../chain/sign.ts';
import type { ChainedCommit } from '../journal/journal.ts';
import { planRuns, runEvents, tripChain } from './chain.ts';
import { scanSpool, spoolRecords, SpoolWriter, type SpoolSummary } from './spool.ts';
import type { TripReport } from './trip.ts';

export interface RecorderDeps {
  cfg: GatewayConfig;
  archive: TripArchive;
  clock: Clock;
  log: Logger;
  /** A system event on the events lane (`archive.pruned`). */
  event: (e: Omit<EventDraft, 'kind' | 'ts' | 'tq'>) => void;
  /** Signs the trip's chain heads when it is archived; without it the chain is archived unsigned. */
  key?: BoxKey;
}

/** What a journal batch's commit hands back: its records (with seqs), or undefined when the disk refused them. */
export type Committed = (records: readonly JournalRecord[] | undefined) => void;

const SPOOL_SUFFIX = '.spool';
/** A trip end waits this long for the journal to commit the trip's last readings (their seqs). */
const SEQ_WAIT_MS = 10_000;
const PRUNE_EVERY_MS = 3_600_000;

interface Running {
  id: string;
  spool: SpoolWriter;
  /** Batches spooled and not yet committed by the journal. */
  pending: number;
  settled?: () => void;
}

/**
 * Keeps the running trip's readings, positions and inputs in its spool and turns the spool into
 * the archived trip when the trip ends (trip.ended). A spool found at start is the running
 * trip's (the rules state restored it) and is continued; any other is archived at once.
 */
export class TripRecorder {
  private running: Running | undefined;
  /** Trip ends are archived one after the other. */
  private finishing: Promise<void> = Promise.resolve();
  private readonly pruneTimer: NodeJS.Timeout;
  private failing = false;

  private constructor(private readonly deps: RecorderDeps) {
    this.pruneTimer = setInterval(() => this.after(() => this.prune()), PRUNE_EVERY_MS).unref();
  }

  static async open(deps: RecorderDeps, runningTrip: { id: string; startedAt: string } | undefined): Promise<TripRecorder> {
    const r = new TripRecorder(deps);
    deps.archive.create();
    for (const name of readdirSync(deps.archive.dir)) {
      // A trip file a stopped box was still writing: never renamed, so never a trip; the spool still has it.
      if (name.startsWith('.') && name.endsWith('.tmp')) unlinkSync(path.join(deps.archive.dir, name));
      const id = name.slice(0, -SPOOL_SUFFIX.length);
      if (!name.endsWith(SPOOL_SUFFIX) || id === runningTrip?.id) continue;
      const file = path.join(deps.archive.dir, name);
      // Archived but the spool not yet removed when the box stopped: the file is the record.
      if (existsSync(path.join(deps.archive.dir, `${id}${TRIP_SUFFIX}`))) r.removeSpool(file);
      else await r.archive(file, 0);
    }
    if (runningTrip) r.begin(runningTrip.id, runningTrip.startedAt);
    await r.prune();
    return r;
  }

  /** The drafts of one journal batch, as the rules saw them; call the result once the journal settles them. */
  take(drafts: readonly RecordDraft[]): Committed | undefined {
    const run = this.running;
    if (!run) return undefined;
    const items: { i: number; draft: TemperatureDraft | PositionDraft }[] = [];
    drafts.forEach((draft, i) => {
      if (draft.kind === 'temperature' || draft.kind === 'position') items.push({ i, draft });
    });
    let b: number | undefined;
    try {
      b = run.spool.readings(items, this.deps.clock.nowMs().ms);
      this.recovered();
    } catch (err) {
      run.spool.dropped += items.length;
      this.failed(err as Error);
    }
    if (b === undefined) return undefined;
    run.pending++;
    return (records) => {
      if (records) this.guard(() => run.spool.seqs(b, seqsOf(records)));
      if (--run.pending === 0) run.settled?.();
    };
  }

  /** Every journal commit (Journal.onChained): while a trip runs, its seqs, events and now and then its chain hashes go in the spool. */
  committed(c: ChainedCommit): void {
    const run = this.running;
    if (run) this.guard(() => run.spool.commit(c, this.deps.clock.nowMs().ms));
  }

  onInput(id: string, on: boolean): void {
    const run = this.running;
    if (run) this.guard(() => run.spool.input(id, on, this.deps.clock.nowMs().ms));
  }

  /** Events from the rules: trip.started opens a spool, trip.ended archives it. */
  onEvent(e: EventDraft): void {
    const tripId = e.data?.tripId;
    if (typeof tripId !== 'string') return;
    if (e.type === 'trip.started') {
      if (this.running) this.end(undefined);
      this.begin(tripId, e.ts);
    } else if (e.type === 'trip.ended' && this.running?.id === tripId) {
      this.end(e.data?.report as TripReport);
    }
  }

  /** Resolves once every trip that has ended is archived (or failed to be, which is logged). */
  idle(): Promise<void> {
    return this.finishing;
  }

  /** Waits for trip ends being archived; the running trip's spool stays for the next start. */
  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.idle();
    const run = this.running;
    this.running = undefined;
    if (run) {
      await run.spool.sync().catch(() => undefined);
      run.spool.close();
    }
  }

  private begin(id: string, startedAt: string) {
    if (!TRIP_ID.test(id)) {
      this.deps.log.error({ tripId: id }, 'trip archive: trip id cannot name a file; this trip is not archived');
      return;
    }
    const { cfg, archive, log } = this.deps;
    const file = path.join(archive.dir, `${id}${SPOOL_SUFFIX}`);
    const probes = cfg.probes.map((p) => ({ id: p.id, ...(p.compartment !== undefined && { compartment: p.compartment }) }));
    const spool = this.guard(
      () => new SpoolWriter(file, { trip: id, startedAt, probes }, { maxBytes: cfg.archive.maxTripBytes, syncMs: cfg.journal.fsync ? cfg.journal.commitIntervalMs : undefined, onError: (err) => log.error({ err, file }, 'trip archive: fsync of the spool failed') }),
    );
    if (spool) this.running = { id, spool, pending: 0 };
  }

  private end(report: TripReport | undefined) {
    const run = this.running!;
    this.running = undefined;
    if (report) this.guard(() => run.spool.end(report));
    this.after(async () => {
      // The trip's last readings are still in the journal's next commit: their seqs are worth a moment.
      if (run.pending > 0) await new Promise<void>((resolve) => {
        run.settled = resolve;
        setTimeout(resolve, SEQ_WAIT_MS).unref();
      });
      await run.spool.sync();
      run.spool.close();
      await this.archive(run.spool.file, run.spool.dropped);
      await this.prune();
    });
  }

  /** Spool to archived trip: the file is written atomically, then the spool goes. */
  private async archive(file: string, dropped: number) {
    const { summary: s, seqs, commits, held } = await scanSpool(file);
    if (!s.trip || !TRIP_ID.test(s.trip)) {
      this.deps.log.error({ file }, 'trip archive: spool without a trip header left in place: move it away');
      return;
    }
    // A pass of its own: the header, which carries the signed heads, is written first.
    const planned = planRuns(commits, held);
    const chain = await tripChain(planned, spoolRecords(file, seqs), this.deps.cfg.gatewayId, this.deps.key);
    if (chain.problems) this.deps.log.error({ tripId: s.trip, problems: chain.problems }, 'trip archive: the archived records do not recompute the journal chain; those lanes are archived unsigned');
    const header = this.header(s, dropped);
    if (this.deps.key) chain.header = signTripHeader(this.deps.key, header);
    const entry = await this.deps.archive.store({ ...header, chain }, bodyLines(spoolRecords(file, seqs), runEvents(planned)));
    this.deps.log.info({ tripId: s.trip, bytes: entry.bytes, readings: entry.header.counts.readings }, 'trip archived');
    this.removeSpool(file);
  }

  private header(s: SpoolSummary, dropped: number): TripHeader {
    const { cfg, clock } = this.deps;
    const incomplete = [
      ...(s.report ? [] : ["the trip's end was not recorded (the box's rules state was lost): no report, the readings are all here"]),
      ...(s.fullAtMs !== undefined ? [`readings after ${new Date(s.fullAtMs).toISOString()} were not kept: the trip reached archive.maxTripBytes (${cfg.archive.maxTripBytes} bytes)`] : []),
      ...(dropped > 0 ? [`${dropped} readings and positions since the box last started were not kept (spool full, or the disk refused writes)`] : []),
      ...(s.skipped ? [`${s.skipped} torn spool line(s) skipped (the box lost power while writing)`] : []),
    ];
    const archivedAt = new Date(clock.nowMs().ms).toISOString();
    return {
      format: FORMAT,
      gatewayId: cfg.gatewayId,
      tripId: s.trip!,
      startedAt: s.report?.startedAt ?? s.startedAt ?? archivedAt,
      endedAt: s.report?.endedAt ?? archivedAt,
      archivedAt,
      report: s.report ?? null,
      probes: s.probes.map((p) => probeMeta(cfg, p.id, p.compartment)),
      episodes: episodes(cfg, s.inputs),
      timeQuality: { readings: s.tq, synchronisedAtEnd: clock.synchronised() },
      counts: { ...s.counts, dropped },
      ...(incomplete.length > 0 && { incomplete }),
    };
  }

  private async prune() {
    const pruned = await this.deps.archive.prune(this.deps.clock.nowMs().ms);
    if (pruned.length === 0) return;
    const { maxBytes, maxAgeDays } = this.deps.cfg.archive;
    this.deps.event({
      type: 'archive.pruned',
      severity: 'info',
      source: this.deps.cfg.gatewayId,
      message: `Trip archive: ${pruned.length} oldest trip(s) pruned (${pruned.map((p) => p.tripId).join(', ')}), limits ${maxBytes} bytes and ${maxAgeDays} days`,
      data: { trips: pruned, maxBytes, maxAgeDays },
    });
  }

  private removeSpool(file: string) {
    unlinkSync(file);
    syncDir(path.dirname(file));
  }

  /** Archiving runs after what is running; a failure is logged and the next one still runs. */
  private after(job: () => Promise<void>) {
    this.finishing = this.finishing.then(job).catch((err: Error) => this.deps.log.error({ err }, 'trip archive: archiving failed; the spool is kept and archived at the next start'));
  }

  /** A disk that refuses the spool must not stop the readings on their way to the rules and the journal. */
  private guard<T>(fn: () => T): T | undefined {
    try {
      const v = fn();
      this.recovered();
      return v;
    } catch (err) {
      this.failed(err as Error);
      return undefined;
    }
  }

  /** Logged once per outage, not once per reading. */
  private failed(err: Error) {
    if (this.failing) return;
    this.failing = true;
    this.deps.log.error({ err }, 'trip archive: writing the spool failed; readings are counted as dropped in the trip until it works again');
  }

  private recovered() {
    if (!this.failing) return;
    this.failing = false;
    this.deps.log.info('trip archive: writing the spool works again');
  }
}

/** First seq when the batch's seqs run consecutively (the journal commits a batch in one run), else all of them. */
function seqsOf(records: readonly JournalRecord[]): number | number[] {
  const first = records[0]?.seq ?? 0;
  return records.every((r, i) => r.seq === first + i) ? first : records.map((r) => r.seq);
}

function probeMeta(cfg: GatewayConfig, id: string, compartment: string | undefined): ProbeMeta {
  const p = cfg.probes.find((x) => x.id === id);
  if (!p) return { id, ...(compartment !== undefined && { compartment }) };
  return { id, ...(p.compartment !== undefined && { compartment: p.compartment }), bus: p.bus, unit: p.unit, address: p.address, profile: p.profile };
}

/** On-periods of the inputs that compartments use as door or defrost signals. */
function episodes(cfg: GatewayConfig, inputs: SpoolSummary['inputs']): InputEpisode[] {
  const out: InputEpisode[] = [];
  const open = new Map<string, InputEpisode>();
  for (const { id, on, atMs } of inputs) {
    const at = new Date(atMs).toISOString();
    const current = open.get(id);
    if (on && !current) {
      const uses = cfg.compartments.flatMap((c) => (['door', 'defrost'] as const).filter((cause) => c[cause]?.input === id).map((cause) => ({ compartment: c.id, cause })));
      const ep: InputEpisode = { input: id, uses, from: at };
      open.set(id, ep);
      out.push(ep);
    } else if (!on && current) {
      current.to = at;
      open.delete(id);
    }
  }
  return out;
}
