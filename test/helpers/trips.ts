/** Trips through the real TripRecorder at a scripted clock: a year of them in seconds. */
import { parseConfig } from '../../src/config/load.ts';
import type { GatewayConfig } from '../../src/config/schema.ts';
import { Clock } from '../../src/core/clock.ts';
import { silentLogger, type Logger } from '../../src/core/log.ts';
import type { EventDraft, JournalRecord, Lane, PositionDraft, RecordDraft, TemperatureDraft } from '../../src/core/types.ts';
import { laneOf } from '../../src/core/types.ts';
import { chainEnd, genesis } from '../../src/chain/hash.ts';
import { ensureBoxKey, keysDir, type BoxKey } from '../../src/chain/keys.ts';
import { archiveDir, TripArchive } from '../../src/trips/archive.ts';
import { TripRecorder } from '../../src/trips/recorder.ts';
import { newTrip, tripReport, type TripReport } from '../../src/trips/trip.ts';

export interface TripBench {
  cfg: GatewayConfig;
  archive: TripArchive;
  recorder: TripRecorder;
  events: Omit<EventDraft, 'kind' | 'ts' | 'tq'>[];
  /** The box key the archive signs with ({dataDir}/keys). */
  key: BoxKey;
  /** The journal incarnation the scripted commits chain under. */
  incarnation: string;
  /** Commits records as the journal would (next seqs, chained per lane) and tells the recorder; returns them with their seqs. */
  commit(drafts: readonly RecordDraft[]): JournalRecord[];
  /** The scripted clock, ms since the epoch. */
  now: number;
  /** Runs one trip of `hours` from the current time, a reading per probe every `everySec`; returns its id. */
  trip(hours: number, everySec: number): Promise<string>;
  /** Starts a trip (trip.started, as the rules emit it) at the current time. */
  start(): { id: string; startedMs: number };
  /** Ends it (trip.ended with a report, `report` replacing its fields) and waits until it is archived. */
  end(trip: { id: string; startedMs: number }, report?: Partial<TripReport>): Promise<void>;
  /** Readings of every probe every `everySec` for `hours` from the current time, each batch committed at once; moves the clock on. */
  feed(hours: number, everySec: number, gpsEverySec?: number): void;
}

/** A gateway config with `probes` probes in one chiller compartment and the archive section given. */
export function tripConfig(dataDir: string, probes: number, archive: Record<string, unknown> = {}): GatewayConfig {
  return parseConfig(
    {
      gatewayId: 'van-1',
      dataDir,
      buses: [{ id: 'b', type: 'tcp', host: '127.0.0.1' }],
      probes: Array.from({ length: probes }, (_, i) => ({ id: `p${i}`, bus: 'b', unit: 1, address: i, compartment: 'chiller' })),
      compartments: [{ id: 'chiller', name: 'Chiller', preset: 'chilled' }],
      archive,
    },
    '/dev/null/test.json',
  ).config;
}

export async function tripBench(cfg: GatewayConfig, startMs: number, log: Logger = silentLogger): Promise<TripBench> {
  const events: TripBench['events'] = [];
  const b = { now: startMs } as TripBench;
  const clock = new Clock(
    () => b.now,
    () => b.now,
  );
  const archive = new TripArchive(archiveDir(cfg), cfg.archive, silentLogger);
  const { key } = ensureBoxKey(keysDir(cfg.dataDir));
  const incarnation = '0123456789abcdef';
  const recorder = await TripRecorder.open({ cfg, archive, clock, log, event: (e) => events.push(e), key }, undefined);
  let seq = 1;
  const heads: Record<Lane, string> = { telemetry: genesis(incarnation, 'telemetry'), events: genesis(incarnation, 'events') };
  const commit = (drafts: readonly RecordDraft[]) => {
    const records = drafts.map((d) => ({ ...d, seq: seq++ }) as JournalRecord);
    const prev = { ...heads };
    for (const lane of ['telemetry', 'events'] as const) heads[lane] = chainEnd(heads[lane], records.filter((r) => laneOf(r) === lane));
    recorder.committed({ incarnation, prev, head: { ...heads }, records });
    return records;
  };
  // Probe noise of a tenth now and then, as real probes read: a smooth curve would compress unfairly well.
  let seed = 12345;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return (seed % 3) - 1;
  };
  const stamp = () => ({ ts: new Date(b.now).toISOString(), tq: 'system' as const });
  Object.assign(b, {
    cfg,
    archive,
    recorder,
    events,
    key,
    incarnation,
    commit,
    feed(hours: number, everySec: number, gpsEverySec?: number) {
      const started = b.now;
      const step = gpsEverySec === undefined ? everySec : Math.min(everySec, gpsEverySec);
      for (let t = 0; t < hours * 3600; t += step) {
        b.now = started + t * 1000;
        if (gpsEverySec !== undefined && t % gpsEverySec === 0) {
          // A van at ~50 km/h heading north-east, as a receiver reports it (gpsd's fields).
          const fix: PositionDraft = { kind: 'position', ...stamp(), mode: 3, lat: 48.7556 + t * 0.0000031, lon: 2.3503 + t * 0.0000047, speed: 13.9 + noise() * 0.2, track: 45 + noise(), altMSL: 80 + noise() * 0.5 };
          const done = recorder.take([fix]);
          done?.(commit([fix]));
        }
        if (t % everySec !== 0) continue;
        // Polls land a few ms apart, as on a real bus.
        const drafts: TemperatureDraft[] = cfg.probes.map((p, i) => ({ kind: 'temperature', ts: new Date(b.now + i * 7 + (noise() + 1) * 11).toISOString(), tq: 'system', probe: p.id, compartment: 'chiller', value: (Math.round((3 + Math.sin(t / 3600 + i) * 1.5) * 10) + noise()) / 10, quality: 'good' }));
        const done = recorder.take(drafts);
        done?.(commit(drafts));
      }
      b.now = started + hours * 3_600_000;
    },
    start() {
      const id = `van-1-${new Date(b.now).toISOString().replace(/[-:]|\.\d+/g, '')}`;
      recorder.onEvent({ kind: 'event', ...stamp(), type: 'trip.started', severity: 'info', source: 'van-1', message: 'started', data: { tripId: id } });
      return { id, startedMs: b.now };
    },
    async end(trip: { id: string; startedMs: number }, extra: Partial<TripReport> = {}) {
      const report = { ...tripReport(newTrip(trip.id, 'driver', trip.startedMs, []), [], { gatewayId: 'van-1', by: 'driver', nowMs: b.now }), ...extra };
      recorder.onEvent({ kind: 'event', ...stamp(), type: 'trip.ended', severity: 'info', source: 'van-1', message: 'ended', data: { tripId: trip.id, report } });
      await recorder.idle();
    },
    async trip(hours: number, everySec: number) {
      const trip = b.start();
      b.feed(hours, everySec);
      await b.end(trip);
      return trip.id;
    },
  });
  return b;
}
