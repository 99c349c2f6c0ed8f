import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../core/log.ts';
import type { LiveSnapshot } from '../runtime/live-state.ts';
import type { JournalStats } from '../journal/journal.ts';
import { renderMetrics } from './metrics.ts';
import { SseHub } from './sse.ts';

// Read once at start: the page ships with the box, nothing comes from a CDN.
const PAGE = readFileSync(new URL('./page.html', import.meta.url));

export interface LocalDeps {
  log: Logger;
  snapshot: () => LiveSnapshot;
  journalStats: () => JournalStats;
  healthy: () => boolean;
}

export interface LocalServer {
  url: string;
  /** Pushes the current snapshot to every open display. */
  publish(): void;
  close(): Promise<void>;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/** The driver display, its live feed, /metrics and /healthz. */
export async function startLocalServer(host: string, port: number, deps: LocalDeps): Promise<LocalServer> {
  const hub = new SseHub();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: `${req.method} is not allowed on ${url.pathname}` });
    switch (url.pathname) {
      case '/':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        return res.end(PAGE);
      case '/events':
        return hub.add(res, { event: 'snapshot', data: deps.snapshot() });
      case '/api/state':
        return json(res, 200, deps.snapshot());
      case '/healthz': {
        const ok = deps.healthy();
        return json(res, ok ? 200 : 503, { ok });
      }
      case '/metrics':
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        return res.end(renderMetrics(deps.snapshot(), deps.journalStats()));
      default:
        return json(res, 404, { error: `no such page: ${url.pathname}` });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(`display cannot listen on ${host}:${port} (${err.code}): set local.http.port or COLDGATE_HTTP_PORT`)),
    );
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const url = `http://${host}:${address.port}/`;
  deps.log.info({ url }, 'driver display listening');
  return {
    url,
    publish: () => {
      if (hub.size > 0) hub.send('snapshot', deps.snapshot());
    },
    close: () =>
      new Promise<void>((resolve) => {
        hub.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
