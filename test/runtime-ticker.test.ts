/**
 * The runtime's 1 s sweep rides on the poll's wakeup (src/runtime/ticker.ts): the work runs in
 * the turn of a nudge once a period has passed, and from its own timer only when no nudge came.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Ticker } from '../src/runtime/ticker.ts';

describe('Ticker', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'performance'] });
  });
  afterEach(() => vi.useRealTimers());

  const at = () => Math.round(performance.now());

  it('runs in the turn of a poll that comes a period after the last run: one wakeup a second, not two', async () => {
    const start = at();
    const runs: number[] = [];
    const ticker = new Ticker(() => runs.push(at() - start), 1000, 100);
    // Polls at 0.35 s, 1.35 s, ... as a bus scheduler makes them.
    const nudges: number[] = [];
    const nudge = () => {
      nudges.push(at() - start);
      ticker.nudge();
    };
    await vi.advanceTimersByTimeAsync(350);
    nudge();
    const poll = setInterval(nudge, 1000);
    await vi.advanceTimersByTimeAsync(5100);
    clearInterval(poll);
    ticker.stop();
    expect(nudges).toEqual([350, 1350, 2350, 3350, 4350, 5350]);
    // Each run in its nudge's turn (the fake clock puts an immediate 1 ms on), none from the timer.
    expect(runs).toHaveLength(nudges.length);
    runs.forEach((r, i) => expect(r - nudges[i]!).toBeLessThanOrEqual(1));
  });

  it('nudges closer together than the period change nothing; without nudges the timer runs it, at most the grace late', async () => {
    const start = at();
    const runs: number[] = [];
    const ticker = new Ticker(() => runs.push(at() - start), 1000, 100);
    const poll = setInterval(() => ticker.nudge(), 200);
    await vi.advanceTimersByTimeAsync(2900);
    clearInterval(poll);
    // Nudged every 200 ms: a run at the first nudge, then at the first 900 ms (period less grace) after the last.
    expect(runs).toEqual([201, 1201, 2201]);
    await vi.advanceTimersByTimeAsync(2700);
    ticker.stop();
    expect(runs).toEqual([201, 1201, 2201, 3301, 4401, 5501]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(runs).toHaveLength(6);
  });
});
