import type { GatewayConfig } from '../config/schema.ts';
import { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { DeviceHealth, RecordDraft } from '../core/types.ts';
import { createRulesEngine, journalRulesStore, type RulesEngine } from '../rules/index.ts';
import { Journal } from '../journal/journal.ts';
import { startLocalServer, type LocalServer } from '../local/server.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../uplink/embedded-broker.ts';
import { Uplink, type IncomingCommand } from '../uplink/uplink.ts';
import { startSimulator, type Simulator } from '../../drivers/sim/index.ts';
import { startSimDriver } from '../../drivers/sim/driver.ts';
import { createProbeDrivers, type ProbeDrivers } from '../../drivers/modbus-probe/index.ts';
import { createGpsDriver, type GpsDriver } from '../../drivers/gps-nmea/index.ts';
import { LiveState } from './live-state.ts';
import { VERSION } from './version.ts';

export interface Gateway {
  readonly displayUrl: string;
  readonly brokerUrl: string;
  readonly journal: Journal;
  readonly rules: RulesEngine;
  health(): DeviceHealth[];
  /** Answers a command (src/remote) on the topic its sender named; dropped while offline. */
  reply(command: IncomingCommand, body: unknown): void;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  /** A message on this gateway's own `cmd/{name}` (src/remote handles them). */
  onCommand?: (command: IncomingCommand) => void;
}

const HEALTH_INTERVAL_MS = 1000;
const LATEST_INTERVAL_MS = 10_000;

/**
 * Starts everything in dependency order: journal first (nothing counts before it is on disk),
 * then the simulator and broker the demo needs, the uplink, the display, and the drivers last.
 * Stops in reverse, so no sample is taken that could not be committed.
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
    const rules = createRulesEngine(cfg, {
      // Alarms and their transitions go through the journal like samples: nothing is lost offline.
      emit: (event) => {
        local?.onEvent(event);
        journal.append(event).then(
          () => rulesLog.info({ type: event.type, severity: event.severity, source: event.source }, event.message),
          (err: Error) => rulesLog.error({ err: err.message, type: event.type }, 'event not committed'),
        );
      },
      // Saved in the journal's own commits, atomically with the events it describes.
      store: journalRulesStore(journal),
      clock,
      log: rulesLog,
    });
    await rules.start();
    stops.push(() => rules.stop());
    const live = new LiveState(cfg.gatewayId, () => rules.snapshot());
    const uplink = new Uplink(uplinkCfg, { journal, log: log.child({ mod: 'uplink' }), gatewayId: cfg.gatewayId, version: VERSION, latest: () => live.snapshot(), onCommand: options.onCommand });
    uplink.start();
    stops.push(() => uplink.stop());

    let probes: ProbeDrivers | undefined;
    let gps: GpsDriver | undefined;
    const health = (): DeviceHealth[] => [uplink.health(), journal.health(), ...(probes?.health() ?? []), ...(gps ? [gps.health()] : [])];

    const display = await startLocalServer({
      cfg: cfg.local,
      log: log.child({ mod: 'local' }),
      snapshot: () => live.snapshot(),
      journalStats: () => journal.stats(),
      rules,
      writeCoil: (bus, unit, address, value) => (probes ? probes.writeCoil(bus, unit, address, value) : Promise.reject(new Error('Modbus drivers not started yet'))),
    });
    local = display;
    stops.push(() => display.close());
    if (cfg.sim?.driver && cfg.local.pin) {
      const driver = startSimDriver({ url: display.url, pin: cfg.local.pin, ackAfterSec: cfg.sim.driver.ackAfterSec, log: log.child({ mod: 'sim-driver' }) });
      stops.push(async () => driver.close());
    }

    // A sample counts once the journal has committed it; only then is it shown, judged or sent.
    // One commit promise per call: the probes hand over every reading of a coalesced read at once.
    const sinkMany = (drafts: RecordDraft[]) => {
      journal.appendMany(drafts).then(
        (records) => {
          for (const record of records) live.apply(record);
          rules.onRecords(records);
        },
        (err: Error) => log.error({ err: err.message, kind: drafts[0]?.kind, records: drafts.length }, 'sample not committed'),
      );
    };
    const sink = (draft: RecordDraft) => sinkMany([draft]);

    probes = createProbeDrivers({ buses: cfg.buses, probes: cfg.probes, inputs: cfg.inputs }, { sinkMany, clock, log: log.child({ mod: 'modbus' }), onInput: (id, on) => rules.onInput(id, on) });
    await probes.start();
    stops.push(() => probes!.stop());
    if (cfg.gps) {
      gps = createGpsDriver(cfg.gps, { sink, clock, log: log.child({ mod: 'gps' }) });
      await gps.start();
      stops.push(() => gps!.stop());
    }

    let lastLatest = Date.now();
    const ticker = setInterval(() => {
      const now = health();
      live.setHealth(now);
      rules.onHealth(now);
      rules.tick(clock.nowMs().ms);
      display.publish();
      if (Date.now() - lastLatest >= LATEST_INTERVAL_MS) {
        lastLatest = Date.now();
        uplink.publishLatest();
      }
    }, HEALTH_INTERVAL_MS);
    stops.push(async () => clearInterval(ticker));
    live.setHealth(health());

    log.info({ gatewayId: cfg.gatewayId, display: local.url, broker: uplinkCfg.url, version: VERSION }, 'coldgate running');
    return { displayUrl: display.url, brokerUrl: uplinkCfg.url, journal, rules, health, reply: (command, body) => uplink.reply(command, body), stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
