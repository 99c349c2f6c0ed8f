import type { GatewayConfig } from '../config/schema.ts';
import { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { DeviceHealth, RecordDraft } from '../core/types.ts';
import { createRulesEngine, levelRulesStore, type RulesEngine } from '../rules/index.ts';
import { Journal } from '../journal/journal.ts';
import { startLocalServer, type LocalServer } from '../local/server.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../uplink/embedded-broker.ts';
import { Uplink } from '../uplink/uplink.ts';
import { startSimulator, type Simulator } from '../../drivers/sim/index.ts';
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
  stop(): Promise<void>;
}

const HEALTH_INTERVAL_MS = 1000;
const LATEST_INTERVAL_MS = 10_000;

/**
 * Starts everything in dependency order: journal first (nothing counts before it is on disk),
 * then the simulator and broker the demo needs, the uplink, the display, and the drivers last.
 * Stops in reverse, so no sample is taken that could not be committed.
 */
export async function startGateway(cfg: GatewayConfig, log: Logger): Promise<Gateway> {
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
    const rules = createRulesEngine(cfg, {
      // Alarms and their transitions go through the journal like samples: nothing is lost offline.
      emit: (event) => {
        journal.append(event).then(
          () => rulesLog.info({ type: event.type, severity: event.severity, source: event.source }, event.message),
          (err: Error) => rulesLog.error({ err: err.message, type: event.type }, 'event not committed'),
        );
      },
      store: levelRulesStore(journal.db.sublevel<string, unknown>('rules', { valueEncoding: 'json' })),
      clock,
      log: rulesLog,
    });
    await rules.start();
    stops.push(() => rules.stop());
    const live = new LiveState(cfg.gatewayId, () => rules.snapshot());
    const uplink = new Uplink(uplinkCfg, { journal, log: log.child({ mod: 'uplink' }), gatewayId: cfg.gatewayId, version: VERSION, latest: () => live.snapshot() });
    uplink.start();
    stops.push(() => uplink.stop());

    let probes: ProbeDrivers | undefined;
    let gps: GpsDriver | undefined;
    const health = (): DeviceHealth[] => [uplink.health(), journal.health(), ...(probes?.health() ?? []), ...(gps ? [gps.health()] : [])];

    const local: LocalServer = await startLocalServer(cfg.local.http.host, cfg.local.http.port, {
      log: log.child({ mod: 'local' }),
      snapshot: () => live.snapshot(),
      journalStats: () => journal.stats(),
      healthy: () => true,
    });
    stops.push(() => local.close());

    // A sample counts once the journal has committed it; only then is it shown, judged or sent.
    const sink = (draft: RecordDraft) => {
      journal.append(draft).then(
        (record) => {
          live.apply(record);
          if (draft.kind === 'temperature' || draft.kind === 'position') rules.onRecord(draft);
        },
        (err: Error) => log.error({ err: err.message, kind: draft.kind }, 'sample not committed'),
      );
    };

    probes = createProbeDrivers({ buses: cfg.buses, probes: cfg.probes }, { sink, clock, log: log.child({ mod: 'modbus' }) });
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
      local.publish();
      if (Date.now() - lastLatest >= LATEST_INTERVAL_MS) {
        lastLatest = Date.now();
        uplink.publishLatest();
      }
    }, HEALTH_INTERVAL_MS);
    stops.push(async () => clearInterval(ticker));
    live.setHealth(health());

    log.info({ gatewayId: cfg.gatewayId, display: local.url, broker: uplinkCfg.url, version: VERSION }, 'coldgate running');
    return { displayUrl: local.url, brokerUrl: uplinkCfg.url, journal, rules, health, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
