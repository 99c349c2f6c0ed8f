import http from 'node:http';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.ts';
import { Clock } from '../../src/core/clock.ts';
import { REDACT, silentLogger, type Logger } from '../../src/core/log.ts';
import type { EventDraft } from '../../src/core/types.ts';
import type { JournalStats } from '../../src/journal/journal.ts';
import { startLocalServer, type LocalServer } from '../../src/local/server.ts';
import { createRulesEngine, memoryRulesStore, type RulesEngine } from '../../src/rules/index.ts';
import { LiveState } from '../../src/runtime/live-state.ts';
import { archiveDir, TripArchive } from '../../src/trips/archive.ts';

export const PIN = '2468';
const lane = { records: 0, bytes: 0, ackedThrough: 0, dropped: 0 };
const JOURNAL: JournalStats = { incarnation: '0123456789abcdef', nextSeq: 1, usedBytes: 0, maxBytes: 1 << 20, compactions: 0, writable: true, heldEvents: 0, unrecorded: 0, lanes: { events: lane, telemetry: lane } };

export interface TestDisplay {
  engine: RulesEngine;
  server: LocalServer;
  base: string;
  events: EventDraft[];
  coilWrites: boolean[];
  close(): Promise<void>;
}

/**
 * The display server in-process on 127.0.0.1, on a real rules engine (one chiller compartment
 * fed by probe p0, alarms at once) and a buzzer coil that records its writes. `now` is the
 * server's clock (the PIN gate's too), so lockouts are tested without sleeping.
 */
export async function startTestDisplay(opts: { now?: () => number; log?: Logger; local?: Record<string, unknown> } = {}): Promise<TestDisplay> {
  const { config } = parseConfig(
    {
      gatewayId: 'van-1',
      buses: [{ id: 'b', type: 'tcp', host: '127.0.0.1' }],
      probes: [{ id: 'p0', bus: 'b', unit: 1, address: 0, compartment: 'chiller' }],
      compartments: [{ id: 'chiller', name: 'Chiller', preset: 'chilled', delaySec: 0, clearDelaySec: 0 }],
      local: { http: { host: '127.0.0.1', port: 0 }, pin: PIN, outputs: [{ type: 'coil', bus: 'b', unit: 1, address: 3 }], ...opts.local },
    },
    'test.json',
  );
  const events: EventDraft[] = [];
  const coilWrites: boolean[] = [];
  let server: LocalServer | undefined;
  const engine = createRulesEngine(config, {
    emit: (e) => {
      events.push(e);
      server?.onEvent(e);
    },
    store: memoryRulesStore(),
    clock: new Clock(),
    log: silentLogger,
  });
  await engine.start();
  const live = new LiveState('van-1', engine);
  server = await startLocalServer({
    cfg: config.local,
    log: opts.log ?? silentLogger,
    snapshot: () => live.snapshot(),
    journalStats: () => JOURNAL,
    rules: engine,
    archive: new TripArchive(archiveDir(config), config.archive, silentLogger),
    writeCoil: async (_bus, _unit, _address, value) => void coilWrites.push(value),
    ...(opts.now && { now: opts.now }),
  });
  const started = server;
  return {
    engine,
    server: started,
    base: started.url,
    events,
    coilWrites,
    close: async () => {
      await started.close();
      await engine.stop();
    },
  };
}

export interface LogLine {
  level: number;
  msg: string;
  err?: { stack?: string };
  [key: string]: unknown;
}

/** A debug-level logger (with the production redaction) whose lines the test reads. */
export function capturingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug', redact: { paths: REDACT, censor: '[redacted]' } }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { log, lines };
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: { error?: string; details?: Record<string, unknown> } & Record<string, unknown>;
}

/**
 * A JSON POST sent from `from` (any 127/8 address: Linux routes all of it to lo), with headers
 * that fetch will not let a test set (Host, Origin).
 */
export function postFrom(base: string, path: string, body: unknown, opts: { from?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const url = new URL(path, base);
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent: false,
        ...(opts.from && { localAddress: opts.from }),
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...opts.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) as Answer['body'] }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}
