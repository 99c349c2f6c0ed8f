import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { Clock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/log.ts';
import type { EventDraft } from '../src/core/types.ts';
import type { JournalStats } from '../src/journal/journal.ts';
import { startLocalServer, type LocalServer } from '../src/local/server.ts';
import { FIRST_LOCK_MS, FREE_ATTEMPTS } from '../src/local/pin.ts';
import { createRulesEngine, memoryRulesStore, type RulesEngine } from '../src/rules/index.ts';
import { LiveState } from '../src/runtime/live-state.ts';

const PIN = '2468';
const lane = { records: 0, bytes: 0, ackedThrough: 0, dropped: 0 };
const JOURNAL: JournalStats = { nextSeq: 1, usedBytes: 0, maxBytes: 1 << 20, compactions: 0, writable: true, heldEvents: 0, unrecorded: 0, lanes: { events: lane, telemetry: lane } };

let engine: RulesEngine;
let server: LocalServer;
let base: string;
const events: EventDraft[] = [];
const coilWrites: boolean[] = [];
/** The PIN limiter's clock, moved by the lockout test instead of sleeping. */
let now = Date.now();

beforeAll(async () => {
  const { config } = parseConfig(
    {
      gatewayId: 'van-1',
      buses: [{ id: 'b', type: 'tcp', host: '127.0.0.1' }],
      probes: [{ id: 'p0', bus: 'b', unit: 1, address: 0, compartment: 'chiller' }],
      compartments: [{ id: 'chiller', name: 'Chiller', preset: 'chilled', delaySec: 0, clearDelaySec: 0 }],
      local: { http: { host: '127.0.0.1', port: 0 }, pin: PIN, outputs: [{ type: 'coil', bus: 'b', unit: 1, address: 3 }] },
    },
    'test.json',
  );
  engine = createRulesEngine(config, {
    emit: (e) => {
      events.push(e);
      server?.onEvent(e);
    },
    store: memoryRulesStore(),
    clock: new Clock(),
    log: silentLogger,
  });
  await engine.start();
  const live = new LiveState('van-1', () => engine.snapshot());
  server = await startLocalServer({
    cfg: config.local,
    log: silentLogger,
    snapshot: () => live.snapshot(),
    journalStats: () => JOURNAL,
    rules: engine,
    writeCoil: async (_bus, _unit, _address, value) => void coilWrites.push(value),
    now: () => now,
  });
  base = server.url;
});

afterAll(async () => {
  await server?.close();
  await engine?.stop();
});

const temp = (value: number) => engine.onRecord({ kind: 'temperature', ts: new Date().toISOString(), tq: 'system', probe: 'p0', value, quality: 'good' });

function post(path: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  return fetch(new URL(path, base), { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function openAlarm(): Promise<string> {
  temp(9.5);
  const a = engine.snapshot().alarms.find((x) => x.severity === 'critical' && x.ackedBy === undefined);
  expect(a).toBeDefined();
  return a!.id;
}

/** A raw request with an exact body, for what fetch refuses to send (lying content-length, broken HTTP). */
function raw(text: string): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), '127.0.0.1', () => s.end(text));
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

describe('display HTTP API', () => {
  it('serves the page and its assets from the box with a strict content policy', async () => {
    const page = await fetch(base);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    // Nothing from a CDN: every script and stylesheet is relative to the box.
    expect(html).not.toMatch(/(src|href)="https?:/);
    for (const asset of ['page.js', 'page.css']) expect((await fetch(new URL(asset, base))).status).toBe(200);
  });

  it('answers bad requests with clear errors and never crashes', async () => {
    const id = await openAlarm();
    const cases: [string, unknown, Record<string, string> | undefined, number, RegExp][] = [
      [`api/alarms/${id}/ack`, '{"pin": "24', undefined, 400, /not valid JSON/],
      [`api/alarms/${id}/ack`, { pin: 2468 }, undefined, 400, /pin/],
      [`api/alarms/${id}/ack`, { pin: '2468', extra: 1 }, undefined, 400, /extra/],
      [`api/alarms/${id}/ack`, [], undefined, 400, /invalid body/],
      [`api/alarms/${id}/ack`, { pin: '2468' }, { 'content-type': 'text/plain' }, 415, /application\/json/],
      [`api/alarms/${id}/ack`, { pin: '2468', by: 'x'.repeat(5000) }, undefined, 413, /too large/],
      ['api/alarms/..%2F..%2Fetc/ack', { pin: PIN }, undefined, 400, /alarm id/],
      ['api/trip/start', 'null', undefined, 400, /invalid body/],
    ];
    for (const [path, body, headers, status, message] of cases) {
      const r = await post(path, body, headers);
      expect({ path, body, status: r.status }).toEqual({ path, body, status });
      expect((await r.json()).error).toMatch(message);
    }
    // A body larger than the limit, declared or not, is cut off without being buffered.
    const chunked = await raw(`POST /api/trip/start HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n${(10000).toString(16)}\r\n${'{'.repeat(10000)}\r\n0\r\n\r\n`);
    expect(chunked).toMatch(/^HTTP\/1.1 413/);
    expect(await raw('GARBAGE \x00\x01\r\n\r\n')).toMatch(/^HTTP\/1.1 400/);
    expect((await fetch(new URL('api/state', base), { method: 'DELETE' })).status).toBe(405);
    expect((await fetch(new URL('nope', base))).status).toBe(404);
    // Still the same alarm, still waiting, and the server still answers.
    expect(engine.snapshot().alarms.find((a) => a.id === id)?.ackedBy).toBeUndefined();
    expect((await fetch(new URL('healthz', base))).status).toBe(200);
  });

  it('acknowledges with the right PIN only; a second acknowledgement is a conflict', async () => {
    const id = await openAlarm();
    const wrong = await post(`api/alarms/${id}/ack`, { pin: '1111' });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).details.attemptsLeft).toBe(FREE_ATTEMPTS - 1);
    expect(engine.snapshot().alarms.find((a) => a.id === id)?.ackedBy).toBeUndefined();

    const ok = await post(`api/alarms/${id}/ack`, { pin: PIN, by: 'Sam' });
    expect(ok.status).toBe(200);
    expect((await ok.json()).alarm.ackedBy).toBe('Sam (display)');
    expect(events.some((e) => e.type === 'alarm.acknowledged' && e.data?.alarmId === id)).toBe(true);
    expect((await post(`api/alarms/${id}/ack`, { pin: PIN })).status).toBe(409);
    expect((await post('api/alarms/zzz-999/ack', { pin: PIN })).status).toBe(404);
  });

  it('switches the buzzer coil on while an alarm waits and off once acknowledged', async () => {
    temp(3);
    for (const a of engine.snapshot().alarms) engine.acknowledge(a.id, 'test');
    server.publish();
    await expect.poll(() => coilWrites.at(-1)).toBe(false);
    await openAlarm();
    server.publish();
    await expect.poll(() => coilWrites.at(-1)).toBe(true);
    // 9.5 C raised a warning (above 5) and a critical alarm (above 8): the buzzer stops after both.
    const waiting = engine.snapshot().alarms.filter((a) => a.ackedBy === undefined);
    expect(waiting.map((a) => a.severity).sort()).toEqual(['critical', 'warning']);
    expect((await post(`api/alarms/${waiting[0]!.id}/ack`, { pin: PIN })).status).toBe(200);
    server.publish();
    expect(coilWrites.at(-1)).toBe(true);
    expect((await post(`api/alarms/${waiting[1]!.id}/ack`, { pin: PIN })).status).toBe(200);
    await expect.poll(() => coilWrites.at(-1)).toBe(false);
  });

  it('locks a client out after repeated wrong PINs, then lets it try again', async () => {
    now = Date.now();
    // One right PIN forgets earlier failures, so the count starts here.
    expect((await post('api/trip/start', { pin: PIN })).status).toBeLessThan(300);
    const statuses: number[] = [];
    for (let i = 0; i < FREE_ATTEMPTS + 1; i++) statuses.push((await post('api/trip/end', { pin: '0000' })).status);
    expect(statuses).toEqual([...Array(FREE_ATTEMPTS - 1).fill(401), 429, 429]);
    // While locked even the right PIN is refused, and says how long to wait.
    const locked = await post('api/trip/end', { pin: PIN });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(engine.snapshot().trip).toBeDefined();
    now += FIRST_LOCK_MS + 1000;
    expect((await post('api/trip/end', { pin: PIN })).status).toBe(200);
    const metrics = await (await fetch(new URL('metrics', base))).text();
    expect(metrics).toMatch(/^coldgate_display_pin_failures_total (\d+)$/m);
  });

  it('starts and ends trips with the PIN and serves the report', async () => {
    const first = await post('api/trip/start', { pin: PIN });
    expect(first.status).toBe(201);
    const again = await post('api/trip/start', { pin: PIN });
    expect(again.status).toBe(200);
    expect((await again.json()).trip.id).toBe((await first.json()).trip.id);
    temp(4);
    const end = await post('api/trip/end', { pin: PIN });
    expect(end.status).toBe(200);
    const { report } = await end.json();
    expect((await post('api/trip/end', { pin: PIN })).status).toBe(409);
    expect((await (await fetch(new URL('api/trip/report', base))).json()).tripId).toBe(report.tripId);
    const html = await fetch(new URL('report', base));
    expect(html.headers.get('content-type')).toMatch(/text\/html/);
    expect(await html.text()).toContain(`Trip report ${report.tripId}`);
  });

  it('exposes Prometheus metrics and a health check', async () => {
    engine.acknowledge(await openAlarm(), 'test');
    server.publish();
    const text = await (await fetch(new URL('metrics', base))).text();
    // Every sample line is `name{labels} number` and every metric has HELP and TYPE.
    for (const line of text.trim().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{(\w+="[^"]*",?)+\})? -?[\d.e+-]+)$/);
    expect(text).toMatch(/^coldgate_compartment_temperature_celsius\{compartment="chiller"\} 9.5$/m);
    expect(text).toMatch(/^coldgate_alarms_open\{type="temperature",severity="critical",acknowledged="true"\} \d+$/m);
    const health = await fetch(new URL('healthz', base));
    expect(health.status).toBe(200);
    // The ticker stopped (no publish for long): /healthz says so.
    now += 60_000;
    const stalled = await fetch(new URL('healthz', base));
    expect(stalled.status).toBe(503);
    expect((await stalled.json()).error).toMatch(/not been updated/);
    server.publish();
    expect((await fetch(new URL('healthz', base))).status).toBe(200);
  });
});
