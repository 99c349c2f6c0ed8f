import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveState } from '../src/runtime/live-state.ts';
import { latestOf } from '../src/runtime/latest.ts';
import { startTestDisplay, type TestDisplay } from './helpers/display-server.ts';

let display: TestDisplay | undefined;
afterEach(async () => {
  await display?.close();
  display = undefined;
});

const temp = (d: TestDisplay, value: number) => d.engine.onRecord({ kind: 'temperature', ts: new Date().toISOString(), tq: 'system', probe: 'p0', value, quality: 'good' });

describe('the 1 s refresh builds only what someone reads', () => {
  it('feeds the chart and the outputs from the rules status, and builds a snapshot only for an open display', async () => {
    const d = (display = await startTestDisplay());
    const snapshots = vi.spyOn(d.engine, 'snapshot');
    temp(d, 9.5);
    for (let i = 0; i < 3; i++) d.server.publish();
    // The alarm (delay 0) sounds the buzzer and the chart has the value, with no snapshot built.
    await expect.poll(() => d.coilWrites.at(-1)).toBe(true);
    expect(snapshots).not.toHaveBeenCalled();
    const history = (await (await fetch(new URL('api/history', d.base))).json()) as { compartments: Record<string, [number, number, number][]> };
    expect(history.compartments.chiller?.at(-1)?.slice(1)).toEqual([9.5, 9.5]);

    // A display opens: from now on each refresh sends it a fresh snapshot.
    const controller = new AbortController();
    const feed = await fetch(new URL('events', d.base), { signal: controller.signal });
    const reader = feed.body!.getReader();
    await reader.read();
    const before = snapshots.mock.calls.length;
    d.server.publish();
    expect(snapshots.mock.calls.length).toBe(before + 1);
    controller.abort();
  });

  it('status() is the snapshot judgement without probes and limits', async () => {
    const d = (display = await startTestDisplay());
    temp(d, 6);
    const snap = d.engine.snapshot();
    const status = d.engine.status();
    expect(status.compartments).toEqual(snap.compartments.map(({ id, value, state, suppressedBy, display }) => ({ id, value, state, suppressedBy, display })));
    expect(status.alarms).toEqual(snap.alarms);
    expect(status.alarms.length).toBeGreaterThan(0);
    expect(status.gate).toEqual(snap.gate);
    expect(status.tripId).toBe(snap.trip?.id);
  });

  it("latest's change key is made without a snapshot; the snapshot only when the doc is read", async () => {
    const d = (display = await startTestDisplay());
    const live = new LiveState('van-1', d.engine);
    const snapshots = vi.spyOn(d.engine, 'snapshot');
    temp(d, 3);
    const quiet = latestOf(live);
    temp(d, 3.2);
    // A value changed, nothing a person acts on: the same key.
    expect(latestOf(live).changeKey).toBe(quiet.changeKey);
    expect(snapshots).not.toHaveBeenCalled();
    temp(d, 9.5);
    const alarm = latestOf(live);
    expect(alarm.changeKey).not.toBe(quiet.changeKey);
    expect((alarm.doc as { compartments: { value: number }[] }).compartments[0]!.value).toBe(9.5);
    expect(snapshots).toHaveBeenCalledTimes(1);
  });
});
