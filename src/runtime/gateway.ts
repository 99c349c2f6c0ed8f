import type { GatewayConfig } from '../config/schema.ts';
import { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { DeviceHealth, EventDraft, RecordDraft } from '../core/types.ts';
import { createRulesEngine, journalRulesStore, type RulesEngine } from '../rules/index.ts';
import { Journal } from '../journal/journal.ts';
import { ensureBoxKey, keysDir } from '../chain/keys.ts';
import { startLocalServer, type LocalServer } from '../local/server.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../uplink/embedded-broker.ts';
import { Uplink, type IncomingCommand, type ReplayReply, type ReplayRequest } from '../uplink/uplink.ts';
import { startSimulator, type Simulator } from '../../drivers/sim/index.ts';
import { startSimDriver } from '../../drivers/sim/driver.ts';
import { createProbeDrivers, type ProbeDrivers } from '../../drivers/modbus-probe/index.ts';
import { createGpsDriver, type GpsDriver } from '../../drivers/gps-nmea/index.ts';
import { archiveDir, TripArchive } from '../trips/archive.ts';
import { TripRecorder } from '../trips/recorder.ts';
import { latestOf } from './latest.ts';
import { LiveState } from './live-state.ts';
import { VERSION } from './version.ts';

export interface Gateway {
  readonly displayUrl: string;
  readonly brokerUrl: string;
  readonly journal: Journal;
  readonly rules: RulesEngine;
  readonly archive: TripArchive;
  health(): DeviceHealth[];
  /** Answers a command (src/remote) on the topic its sender named; dropped while offline. */
  reply(command: IncomingCommand, body: unknown): void;
  /** A receiver's cmd/replay of this journal's incarnation (src/uplink/replay.ts). */
  replay(request: ReplayRequest): Promise<ReplayReply>;
  /** A system event (e.g. a remote config change), stamped and sent the way alarm events go. */
  event(e: Omit<EventDraft, 'kind' | 'ts' | 'tq'>): void;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  /** A message on this gateway's own `cmd/{name}` (src/remote handles them). */
  onCommand?: (command: IncomingCommand) => void;
}

const HEALTH_INTERVAL_MS = 1000;

/**
 * Starts everything in dependency order: journal first (it holds the rules' saved state and
 * records everything after), then the simulator and broker the demo needs, the uplink, the
 * display, and the drivers last.
 * Stops in reverse, so no sample is taken after the journal has closed.
 */
export async function startGateway(cfg: GatewayConfig, log: Logger, options: GatewayOptions = {}): Promise<Gateway> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        log.warn({ err }, 'error while stopping');
      }
    }
  };
  try {
    const journal = await Journal.open(cfg.dataDir, cfg.journal, log.child({ mod: 'journal' }));
    stops.push(() => journal.close());

    let sim: Simulator | undefined;
    if (cfg.sim) {
      sim = await startSimulator(cfg.sim, log.child({ mod: 'sim' }));
      stops.push(() => sim!.close());
    }

    let uplinkCfg = cfg.uplink;
    let broker: EmbeddedBroker | undefined;
    if (cfg.uplink.embeddedBroker) {
      broker = await startEmbeddedBroker(cfg.uplink.embeddedBroker.host, cfg.uplink.embeddedBroker.port, log.child({ mod: 'broker' }));
      stops.push(() => broker!.close());
      uplinkCfg = { ...cfg.uplink, url: broker.url, protocolVersion: 4 };
    }

    const clock = new Clock();
    const rulesLog = log.child({ mod: 'rules' });
    // The display exists only after the rules engine; events before that have nothing to show.
    let local: LocalServer | undefined;
    let recorder: TripRecorder | undefined;
    // Shown and logged at once; the journal records it, holding it in memory while the disk
    // refuses writes, so nothing is lost offline or on a full disk short of a restart.
    const emit = (event: EventDraft) => {
      local?.onEvent(event);
      recorder?.onEvent(event);
      rulesLog.info({ type: event.type, severity: event.severity, source: event.source }, event.message);
      journal.append(event).catch((err: Error) => rulesLog.error({ err: err.message, type: event.type }, 'event not recorded'));
    };
    const rules = createRulesEngine(cfg, {
      emit,
      // Saved in the journal's own commits, atomically with the events it describes.
      store: journalRulesStore(journal),
      clock,
      log: rulesLog,
    });
    await rules.start();
    stops.push(() => rules.stop());
    const event = (e: Omit<EventDraft, 'kind' | 'ts' | 'tq'>) => emit({ kind: 'event', ...clock.stamp(), ...e });
    // Made at the first start (or by `coldgate keys init`): it signs the chain heads batches carry.
    const { key, created } = ensureBoxKey(keysDir(cfg.dataDir));
    if (created) log.info({ dir: keysDir(cfg.dataDir), fingerprint: key.fingerprint }, 'box key created: register its public key (coldgate keys show) with the cloud');
    const archive = new TripArchive(archiveDir(cfg), cfg.archive, log.child({ mod: 'trips' }));
    const trips = await TripRecorder.open({ cfg, archive, clock, log: log.child({ mod: 'trips' }), event, key }, rules.snapshot().trip);
    recorder = trips;
    journal.onChained((c) => trips.committed(c));
    stops.push(async () => {
      // The drivers have stopped: the last readings' commits give the spool their seqs first.
      await journal.flush();
      await new Promise((resolve) => setImmediate(resolve));
      await trips.close();
    });
    const live = new LiveState(cfg.gatewayId, rules);
    const uplink = new Uplink(uplinkCfg, { journal, key, log: log.child({ mod: 'uplink' }), gatewayId: cfg.gatewayId, version: VERSION, latest: () => latestOf(live), onCommand: options.onCommand });
    uplink.start();
    stops.push(() => uplink.stop());

    let probes: ProbeDrivers | undefined;
    let gps: GpsDriver | undefined;
    // Every second (the ticker): pushes, not spreads, which run slowly in code V8 does not optimise.
    const health = (): DeviceHealth[] => {
      const out = probes ? probes.health() : [];
      out.unshift(uplink.health(), journal.health());
      if (gps) out.push(gps.health());
      return out;
    };

    const display = await startLocalServer({
      cfg: cfg.local,
      log: log.child({ mod: 'local' }),
      snapshot: () => live.snapshot(),
      journalStats: () => journal.stats(),
      rules,
      archive,
      writeCoil: (bus, unit, address, value) => (probes ? probes.writeCoil(bus, unit, address, value) : Promise.reject(new Error('Modbus drivers not started yet'))),
    });
    local = display;
    stops.push(() => display.close());
    if (cfg.sim?.driver && cfg.local.pin) {
      const driver = startSimDriver({ url: display.url, pin: cfg.local.pin, ackAfterSec: cfg.sim.driver.ackAfterSec, log: log.child({ mod: 'sim-driver' }) });
      stops.push(async () => driver.close());
    }

    // Judge first, record second: the display and the rules see a reading the moment a driver
    // hands it over, whatever the disk does. The journal records it and the uplink sends it; a
    // reading the disk refused is announced by a gap record (the journal logs and reports that).
    // One commit promise per call: the probes hand over every reading of a coalesced read at once.
    const sinkMany = (drafts: RecordDraft[]) => {
      for (let i = 0; i < drafts.length; i++) live.observe(drafts[i]!);
      // One judgement per poll: each compartment once, with all of the poll's readings in.
      try {
        rules.onRecords(drafts);
      } catch (err) {
        rulesLog.error({ err, records: drafts.length }, 'rules failed on readings; they are recorded all the same');
      }
      // Spooled for the trip archive before the journal sees them: whatever the journal keeps, the trip has.
      const spooled = trips.take(drafts);
      journal.appendMany(drafts).then(
        (records) => {
          live.committed(records);
          spooled?.(records);
        },
        () => spooled?.(undefined),
      );
    };
    const sink = (draft: RecordDraft) => sinkMany([draft]);

    const onInput = (id: string, on: boolean) => {
      rules.onInput(id, on);
      trips.onInput(id, on);
    };
    probes = createProbeDrivers({ buses: cfg.buses, probes: cfg.probes, inputs: cfg.inputs }, { sinkMany, clock, log: log.child({ mod: 'modbus' }), onInput });
    await probes.start();
    stops.push(() => probes!.stop());
    if (cfg.gps) {
      gps = createGpsDriver(cfg.gps, { sink, clock, log: log.child({ mod: 'gps' }) });
      await gps.start();
      stops.push(() => gps!.stop());
    }

    const ticker = setInterval(() => {
      const now = health();
      live.setHealth(now);
      rules.tick(clock.nowMs().ms, now);
      display.publish();
      // Sent only when it changed or is due a refresh (uplink.publishLatest).
      uplink.publishLatest();
    }, HEALTH_INTERVAL_MS);
    stops.push(async () => clearInterval(ticker));
    live.setHealth(health());

    log.info({ gatewayId: cfg.gatewayId, display: local.url, broker: uplinkCfg.url, version: VERSION }, 'coldgate running');
    return { displayUrl: display.url, brokerUrl: uplinkCfg.url, journal, rules, archive, health, reply: (command, body) => uplink.reply(command, body), replay: (request) => uplink.replay(request), event, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
