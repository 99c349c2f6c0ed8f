import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { capturingLogger, PIN, startTestDisplay, type TestDisplay } from './helpers/display-server.ts';

/**
 * The display's HTTP server under a seeded stream of hostile requests: mutated paths and
 * %-encodings, every method, bodies that are not JSON, too deep, too large, or of the wrong
 * type, foreign Host and Origin headers, and raw bytes that are not HTTP at all. Nothing may
 * answer 5xx or log an error, nothing may acknowledge an alarm without the PIN, and the
 * display must still answer afterwards.
 */
const REQUESTS = 1500;
const RAW_CONNECTIONS = 200;

function rng(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

const PATHS = ['/', '/api/state', '/api/history', '/api/alarms/x/ack', '/api/trip/start', '/api/trip/end', '/api/trip/report', '/report', '/healthz', '/metrics', '/events', '/page.js', '/favicon.ico'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'];

function hostilePath(r: () => number): string {
  const base = PATHS[Math.floor(r() * PATHS.length)]!;
  switch (Math.floor(r() * 7)) {
    case 0: return `${base}%${Math.floor(r() * 256).toString(16).slice(0, 1)}z`;
    case 1: return `${base}/${'%E2%82'.repeat(1 + Math.floor(r() * 3))}`;
    case 2: return `/api/alarms/${'a'.repeat(Math.floor(r() * 5000))}/ack`;
    case 3: return `${base}?${'x=1&'.repeat(Math.floor(r() * 200))}`;
    case 4: return `//${base}/../../etc/passwd`;
    case 5: return `${base}/%00%2e%2e`;
    default: return base;
  }
}

function hostileBody(r: () => number): { type: string; body: Buffer } {
  switch (Math.floor(r() * 7)) {
    case 0: return { type: 'application/json', body: Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`.slice(0, 2000)) };
    case 1: return { type: 'application/json', body: Buffer.from(`{"pin":"${PIN.slice(0, 3)}${Math.floor(r() * 10)}0","by":"x"}`) };
    case 2: return { type: 'application/json', body: Buffer.from(JSON.stringify({ pin: 1234, by: { nested: [1, 2] } })) };
    case 3: return { type: 'text/plain', body: Buffer.from('pin=2468') };
    case 4: return { type: 'application/json', body: Buffer.alloc(4096, 0x7b) };
    case 5: return { type: 'application/json', body: Buffer.from(Array.from({ length: 64 }, () => Math.floor(r() * 256))) };
    default: return { type: 'application/json; charset=utf-16', body: Buffer.from('{"__proto__":{"admin":true},"constructor":{"prototype":{}}}') };
  }
}

function hostileHeaders(r: () => number, base: URL): Record<string, string> {
  const h: Record<string, string> = {};
  const k = r();
  if (k < 0.2) h.host = 'evil.example';
  else if (k < 0.3) h.host = `${base.host}\u0000`.replace('\u0000', '');
  if (r() < 0.2) h.origin = r() < 0.5 ? 'null' : 'http://evil.example';
  return h;
}

/** One raw HTTP exchange; resolves with the status (0 if the server closed without one). */
function send(base: URL, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const s = net.connect(Number(base.port), base.hostname);
    let text = '';
    s.setTimeout(5000, () => s.destroy());
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
    const head = { host: base.host, connection: 'close', ...headers, ...(body && { 'content-length': String(body.length) }) };
    s.write(`${method} ${path} HTTP/1.1\r\n${Object.entries(head).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`);
    if (body) s.write(body);
  });
}

let display: TestDisplay;
const { log, lines } = capturingLogger();
beforeAll(async () => {
  display = await startTestDisplay({ log });
  // An open alarm that a request without the right PIN must not acknowledge.
  display.engine.onRecord({ kind: 'temperature', ts: new Date().toISOString(), tq: 'system', probe: 'p0', compartment: 'chiller', value: 12, quality: 'good' });
  display.engine.tick(Date.now());
});
afterAll(() => display.close());

it(`answers ${REQUESTS} hostile requests and ${RAW_CONNECTIONS} raw garbage connections without a 5xx, an error log or an unauthorised change`, async () => {
  const base = new URL(display.base);
  const r = rng(7);
  const alarmsBefore = display.engine.snapshot().alarms;
  expect(alarmsBefore.length, 'the test needs an open alarm').toBeGreaterThan(0);
  const statuses = new Map<number, number>();
  const failures: string[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const method = METHODS[Math.floor(r() * METHODS.length)]!;
    const path = method === 'POST' && r() < 0.5 ? `/api/alarms/${encodeURIComponent(alarmsBefore[0]!.id)}/ack` : hostilePath(r);
    const withBody = method !== 'GET' && method !== 'HEAD' && r() < 0.8;
    const { type, body } = hostileBody(r);
    const status = await send(base, method, path, { ...hostileHeaders(r, base), ...(withBody && { 'content-type': type }) }, withBody ? body : undefined);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    // /healthz answers 503 by design here: this display has no ticker beating. Anything else 5xx is a fault.
    if (status >= 500 && !(status === 503 && path.startsWith('/healthz'))) failures.push(`${method} ${path.slice(0, 80)} -> ${status}`);
  }
  for (let i = 0; i < RAW_CONNECTIONS; i++) {
    const garbage = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 300) }, () => Math.floor(r() * 256)));
    await new Promise<void>((resolve) => {
      const s = net.connect(Number(base.port), base.hostname, () => s.end(garbage));
      s.setTimeout(5000, () => s.destroy());
      s.on('data', () => undefined).on('error', () => undefined).on('close', () => resolve());
    });
  }
  expect(failures, `status counts ${JSON.stringify([...statuses])}`).toEqual([]);
  // Most requests got a real answer: the server did not just drop them.
  expect([...statuses].filter(([s]) => s >= 400 && s < 500).reduce((n, [, c]) => n + c, 0)).toBeGreaterThan(REQUESTS / 2);
  expect(lines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
  expect(display.engine.snapshot().alarms.map((a) => a.ackedBy)).toEqual(alarmsBefore.map(() => undefined));
  const after = await fetch(new URL('/api/state', base));
  expect(after.status).toBe(200);
  console.log('hostile http', JSON.stringify(Object.fromEntries([...statuses].sort(([a], [b]) => a - b))));
}, 120_000);
