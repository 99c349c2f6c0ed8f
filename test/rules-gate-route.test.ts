import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EventDraft, JournalRecord } from '../src/core/types.ts';
import type { GateRecord } from '../src/rules/index.ts';
import type { Gateway } from '../src/runtime/gateway.ts';
import { epochSentences } from '../drivers/sim/nmea-format.ts';
import { ManualProbes, startTestGateway } from './helpers/gateway.ts';
import { waitFor } from './helpers/net.ts';
import { tempDir } from './helpers/tmp.ts';

const DEPOT = { lat: 48.7556, lon: 2.3503 };
const ARENA = { lat: 48.76, lon: 2.3503 };

/**
 * A drive as a receiver logs it, one epoch a second: 3 s parked in the depot, 6 s driving
 * 490 m north, 8 s parked inside the arena's gate. Dated before the build so the replay is
 * never taken as the time of day (the rules run on the box's clock, the replay's pace is real).
 */
function routeCapture(): string {
  const fixes = [
    ...Array.from({ length: 3 }, () => ({ ...DEPOT, speed: 0 })),
    ...Array.from({ length: 6 }, (_, i) => ({ lat: DEPOT.lat + ((ARENA.lat - DEPOT.lat) * (i + 1)) / 6, lon: DEPOT.lon, speed: 13 })),
    ...Array.from({ length: 8 }, () => ({ ...ARENA, speed: 0 })),
  ];
  const t0 = Date.UTC(2025, 5, 1, 10);
  return fixes.map((f, i) => epochSentences({ ...f, track: 0, parked: f.speed === 0 }, new Date(t0 + i * 1000))).join('');
}

const SITES = [
  { id: 'depot', name: 'Depot', role: 'depot', area: { type: 'circle', ...DEPOT, radiusM: 100 } },
  { id: 'arena', name: 'Arena gate 3', role: 'customer', refuseOn: ['open-critical', 'any-critical'], area: { type: 'circle', ...ARENA, radiusM: 100 } },
];

const events = async (g: Gateway) => (await g.journal.read('events', 0, 10_000)).filter((r): r is JournalRecord & EventDraft => r.kind === 'event');

describe('entry gate on a replayed route (real GPS driver, file replay)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function drive(celsius: number) {
    const tmp = tempDir('coldgate-gate-');
    const probes = new ManualProbes([celsius]);
    await probes.start();
    const capture = path.join(tmp.dir, 'route.nmea');
    writeFileSync(capture, routeCapture());
    const gateway = await startTestGateway(probes, path.join(tmp.dir, 'data'), {
      gps: { source: `file:${capture}`, replay: 'realtime', parkedIntervalMs: 1000 },
      sites: SITES,
      trips: { autoStart: true, autoEnd: true, confirmSec: 1 },
    });
    cleanups.push(() => tmp.cleanup(), () => probes.close(), () => gateway.stop());
    // The verdict comes once the van has been inside the arena for confirmSec.
    const entry = await waitFor(async () => (await events(gateway)).find((e) => e.type === 'entry-refused' || e.type === 'entry-admitted'), 30_000, 'a verdict at the arena');
    const state = await (await fetch(new URL('api/state', gateway.displayUrl))).json();
    return { gateway, entry, all: await events(gateway), state };
  }

  it.concurrent('refuses entry with the evidence after a critical excursion, and the display says DO NOT UNLOAD', async () => {
    const { entry, all, state } = await drive(9.5);
    expect(entry.type).toBe('entry-refused');
    const gate = (entry.data as { gate: GateRecord }).gate;
    expect(gate.siteId).toBe('arena');
    const critical = all.find((e) => e.type === 'alarm.raised' && e.severity === 'critical');
    expect(critical).toBeDefined();
    // The evidence names the alarm and says why, for the driver and the person at the gate.
    expect(gate.evidence.alarms.map((a) => a.id)).toContain((critical!.data as { alarmId: string }).alarmId);
    expect(gate.reasons.join(' ')).toMatch(/Chiller above 8\.0 C/);
    // The trip began when the van left the depot, before the gate.
    const started = all.find((e) => e.type === 'trip.started');
    expect(started?.message).toMatch(/left Depot/);
    expect(started!.seq).toBeLessThan(entry.seq);
    expect(state.gate.doNotUnload).toBe(true);
    expect(state.gate.message).toMatch(/do not unload/i);
    expect(state.alarms.some((a: { type: string; active: boolean }) => a.type === 'entry-refused' && a.active)).toBe(true);
  });

  it.concurrent('admits a van whose cargo stayed in range', async () => {
    const { entry, all, state } = await drive(3.0);
    expect(entry.type).toBe('entry-admitted');
    expect((entry.data as { gate: GateRecord }).gate).toMatchObject({ siteId: 'arena', refuse: false, reasons: [] });
    expect(all.some((e) => e.type === 'entry-refused' || (e.type === 'alarm.raised' && e.severity === 'critical'))).toBe(false);
    expect(all.some((e) => e.type === 'trip.started')).toBe(true);
    expect(state.gate.doNotUnload).toBe(false);
  });
});
