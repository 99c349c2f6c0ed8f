import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalConfig } from '../config/schema-local.ts';
import type { Logger } from '../core/log.ts';
import type { DeviceHealth, EventDraft } from '../core/types.ts';
import type { JournalStats } from '../journal/journal.ts';
import { checkTripId, tripSummary, type TripArchive } from '../trips/archive.ts';
import { renderTripReportHtml, type TripReport } from '../trips/index.ts';
import type { LiveSnapshot } from '../runtime/live-state.ts';
import type { RulesEngine } from '../rules/index.ts';
import { acknowledgeAlarm, endTrip, startTrip, type ApiDeps, type ApiResult } from './api.ts';
import { loadAssets, PAGE_CSP, REPORT_CSP } from './assets.ts';
import { TemperatureHistory } from './history.ts';
import { hostCheck } from './host-check.ts';
import { renderMetrics } from './metrics.ts';
import { AlarmOutputs, type WriteCoil } from './outputs.ts';
import { PinGate } from './pin.ts';
import { HttpError, sendError, sendJson } from './respond.ts';
import { SseHub } from './sse.ts';

export interface LocalDeps {
  cfg: LocalConfig;
  log: Logger;
  snapshot: () => LiveSnapshot;
  journalStats: () => JournalStats;
  /** `status` every second for the chart and the outputs; the API's calls on demand. */
  rules: ApiDeps['rules'] & Pick<RulesEngine, 'status'>;
  /** Ended trips, read-only here. */
  archive: Pick<TripArchive, 'list' | 'get'>;
  /** The probe driver's coil write; the drivers start after the display, so it is looked up per call. */
  writeCoil: WriteCoil;
  now?: () => number;
}

/** The snapshot as the display gets it: the gateway's live state and what the display itself knows. */
export interface DisplayView extends LiveSnapshot {
  display: { pinSet: boolean; outputsOn: boolean; lastReport?: { tripId: string; endedAt: string; clean: boolean } };
}

export interface LocalServer {
  url: string;
  /** The ticker's heartbeat (every second): chart data, outputs and a fresh snapshot to every display. */
  publish(): void;
  /** A rules event: displays and outputs follow at once rather than at the next tick. */
  onEvent(e: EventDraft): void;
  close(): Promise<void>;
}

/** Chart resolution: 4 h of 30 s buckets is 480 points per compartment. */
const HISTORY_STEP_MS = 30_000;
/** /healthz fails when the ticker that drives rules and display has not run for this long. */
const STALL_MS = 5_000;

/**
 * Why /healthz fails, if it does: a stalled ticker (the alarm path is not running) or a
 * journal that cannot record (the box judges but keeps nothing).
 */
function healthzError(stalledMs: number, health: readonly DeviceHealth[]): string | undefined {
  const problems: string[] = [];
  if (stalledMs >= STALL_MS) problems.push(`rules and display have not been updated for ${Math.round(stalledMs / 1000)} s`);
  for (const h of health) if (h.kind === 'journal' && h.state === 'offline') problems.push(`journal ${h.id} cannot record: ${h.detail ?? 'writes fail'}`);
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/** `params` are the route's captured path segments, %-decoded. */
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, params: string[]) => void | Promise<void>;

/** Methods that change nothing: only the others are checked against DNS rebinding and cross-site pages. */
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/** The driver display, its API, live feed, alarm outputs, /metrics and /healthz. */
export async function startLocalServer(deps: LocalDeps): Promise<LocalServer> {
  const { cfg, log } = deps;
  const now = deps.now ?? Date.now;
  const assets = loadAssets();
  const hub = new SseHub();
  const pins = new PinGate(cfg.pin);
  const history = new TemperatureHistory(cfg.historyHours * 3_600_000, HISTORY_STEP_MS);
  const outputs = new AlarmOutputs(cfg.outputs, cfg.outputSeverity, { log, writeCoil: deps.writeCoil });
  const api: ApiDeps = { rules: deps.rules, pins, log, now };
  let lastReport: TripReport | undefined;
  let lastBeat = now();

  const view = (): DisplayView => ({
    ...deps.snapshot(),
    display: {
      pinSet: cfg.pin !== undefined,
      outputsOn: outputs.on,
      ...(lastReport && { lastReport: { tripId: lastReport.tripId, endedAt: lastReport.endedAt, clean: lastReport.clean } }),
    },
  });

  // Every second whether or not a display is open: the chart and the outputs need only the
  // rules' status; the full snapshot is built for open displays alone.
  const refresh = () => {
    const t = now();
    const status = deps.rules.status();
    for (const c of status.compartments) if (c.value !== null) history.add(c.id, t, c.value);
    outputs.update(status.alarms, t);
    if (hub.size > 0) hub.send('snapshot', view());
  };

  // Several events from one evaluation (raise, then entry refused) make one push.
  let pending = false;
  const soon = () => {
    if (pending) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      refresh();
    });
  };

  /** An archived trip by an id from the URL: 400 for an id that cannot be one, 404 for one not archived. */
  const archived = async (id: string) => {
    const problem = checkTripId(id);
    if (problem) throw new HttpError(400, problem);
    const entry = await deps.archive.get(id);
    if (!entry) throw new HttpError(404, `no archived trip ${id}: /api/trips lists them`);
    return entry.header;
  };

  const respond = (res: http.ServerResponse, r: ApiResult) => {
    sendJson(res, r.status, r.body);
    soon();
  };

  const routes: { method: string; path: RegExp; handler: Handler }[] = [
    { method: 'GET', path: /^\/events$/, handler: (_req, res) => hub.add(res, { event: 'snapshot', data: view() }) },
    { method: 'GET', path: /^\/api\/state$/, handler: (_req, res) => sendJson(res, 200, view()) },
    { method: 'GET', path: /^\/api\/history$/, handler: (_req, res) => sendJson(res, 200, { stepMs: history.stepMs, windowMs: history.windowMs, compartments: history.snapshot() }) },
    { method: 'POST', path: /^\/api\/alarms\/([^/]+)\/ack$/, handler: async (req, res, [id]) => respond(res, await acknowledgeAlarm(req, id!, api)) },
    { method: 'POST', path: /^\/api\/trip\/start$/, handler: async (req, res) => respond(res, await startTrip(req, api)) },
    { method: 'POST', path: /^\/api\/trip\/end$/, handler: async (req, res) => respond(res, await endTrip(req, api)) },
    {
      method: 'GET',
      path: /^\/api\/trip\/report$/,
      handler: (_req, res) => (lastReport ? sendJson(res, 200, lastReport) : sendError(res, new HttpError(404, 'no trip has ended since the box started'))),
    },
    { method: 'GET', path: /^\/api\/trips$/, handler: async (_req, res) => sendJson(res, 200, { trips: (await deps.archive.list()).map(tripSummary).reverse() }) },
    // Everything after /api/trips/ is the id: an id with "/" or ".." in it is refused, not routed elsewhere.
    { method: 'GET', path: /^\/api\/trips\/(.+)$/, handler: async (_req, res, [id]) => sendJson(res, 200, await archived(id!)) },
    {
      method: 'GET',
      path: /^\/report$/,
      handler: async (req, res) => {
        const trip = new URL(req.url ?? '/', 'http://local').searchParams.get('trip');
        // An archived trip's page carries its signed chain heads, as its html export does.
        const header = trip === null ? undefined : await archived(trip);
        const report = trip === null ? lastReport : header!.report;
        if (!report) throw new HttpError(404, trip === null ? 'no trip has ended since the box started: open /report?trip=ID for an archived one' : `trip ${trip} has no report (its end was not recorded)`);
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': REPORT_CSP });
        res.end(renderTripReportHtml(report, header?.chain));
      },
    },
    {
      method: 'GET',
      path: /^\/healthz$/,
      handler: (_req, res) => {
        const { health } = deps.snapshot();
        const error = healthzError(now() - lastBeat, health);
        sendJson(res, error ? 503 : 200, { ok: !error, ...(error && { error }), health });
      },
    },
    {
      method: 'GET',
      path: /^\/metrics$/,
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(renderMetrics(deps.snapshot(), deps.journalStats(), { clients: hub.size, pinFailures: pins.failures, outputsOn: outputs.on }));
      },
    },
  ];

  const checkHost = hostCheck(cfg.http);

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = pathOf(req.url ?? '/');
    if (!SAFE_METHODS.has(req.method ?? '')) checkHost(req);
    const asset = assets.get(path);
    if (asset && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache', 'content-security-policy': PAGE_CSP, 'x-content-type-options': 'nosniff' });
      return res.end(req.method === 'HEAD' ? undefined : asset.body);
    }
    // Browsers ask for an icon unprompted; the page has none, and a 404 in every log helps nobody.
    if (path === '/favicon.ico') return res.writeHead(204).end();
    const matching = routes.filter((r) => r.path.test(path));
    if (matching.length === 0 && !asset) throw new HttpError(404, `no such page: ${path} (the display is at /)`);
    const route = matching.find((r) => r.method === req.method);
    if (!route) {
      const allowed = asset ? ['GET', 'HEAD'] : matching.map((r) => r.method);
      throw new HttpError(405, `${req.method} is not allowed on ${path}: use ${allowed.join(' or ')}`, { allow: allowed.join(', ') });
    }
    // pathOf checked the %-encoding of the whole path, so no segment of it can fail to decode.
    await route.handler(req, res, path.match(route.path)!.slice(1).map(decodeURIComponent));
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      if (err instanceof HttpError) return sendError(res, err);
      // The client closed the connection mid-body (a tab closed, Wi-Fi lost): nobody to answer, nothing broken.
      if (req.errored === err) return log.debug({ url: req.url, method: req.method, reason: (err as Error).message }, 'display: client went away mid-request');
      log.error({ err, url: req.url, method: req.method }, 'display: request failed');
      sendError(res, new HttpError(500, 'internal error on the box: see its log'));
    });
  });
  // Malformed HTTP never reaches a handler: answer 400 and drop the connection.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;

  const { host, port } = cfg.http;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`display cannot listen on ${host}:${port} (${err.code}): set local.http.port or COLDGATE_HTTP_PORT`)),
    );
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/`;
  log.info({ url, pinSet: cfg.pin !== undefined }, 'driver display listening');
  if (cfg.pin === undefined) log.warn('no local.pin set: the display shows alarms but cannot acknowledge them or start and end trips');
  return {
    url,
    publish: () => {
      lastBeat = now();
      refresh();
    },
    onEvent: (e) => {
      if (e.type === 'trip.ended' && e.data?.report) lastReport = e.data.report as TripReport;
      soon();
    },
    close: () =>
      new Promise<void>((resolve) => {
        hub.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * The path of a request target (origin form `/a?b` or absolute form `http://host/a`). A target
 * that is not a URL, or whose %-encoding does not decode, is the client's mistake: 400.
 */
function pathOf(target: string): string {
  let path: string;
  try {
    path = new URL(target, 'http://local').pathname;
  } catch {
    throw new HttpError(400, `bad request target ${JSON.stringify(target.slice(0, 100))}: expected a path such as /api/state`);
  }
  try {
    decodeURIComponent(path);
  } catch {
    throw new HttpError(400, `bad %-encoding in the path ${JSON.stringify(path.slice(0, 100))}: "%" must be followed by two hex digits of UTF-8`);
  }
  return path;
}
