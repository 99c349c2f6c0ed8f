import { describe, expect, it } from 'vitest';
import { acknowledgeAlarm, conditionGone, EMPTY_BOOK, raiseAlarm, type AlarmBook, type AlarmSpec } from '../src/rules/alarms.ts';
import { IDLE, stepDebounce, type Debounce } from '../src/rules/debounce.ts';
import { followInput, scheduledEpisode, suppressing, type Episode } from '../src/rules/suppression.ts';

const spec = (latched: boolean): AlarmSpec => ({ key: 'temp:c:high', type: 'temperature', severity: 'critical', source: 'c', message: 'C above 5.0 C', latched, data: {} });

type Steps = [at: number, what: 'raise' | 'gone' | 'ack'][];

/** Runs a script of steps against the alarm book and lists the transitions as `kind@t`. */
function run(latched: boolean, steps: Steps): { log: string[]; book: AlarmBook } {
  let book = EMPTY_BOOK;
  const log: string[] = [];
  for (const [t, what] of steps) {
    const id = book.open[0]?.id ?? '';
    const r = what === 'raise' ? raiseAlarm(book, spec(latched), t) : what === 'gone' ? conditionGone(book, 'temp:c:high', t) : acknowledgeAlarm(book, id, 'driver', t);
    book = r.book;
    log.push(...r.transitions.map((x) => `${x.kind}@${t}`));
  }
  return { log, book };
}

describe('alarm lifecycle', () => {
  it.each<[string, boolean, Steps, string[]]>([
    ['unlatched clears by itself', false, [[1, 'raise'], [2, 'raise'], [3, 'gone']], ['raised@1', 'cleared@3']],
    ['latched stays until acknowledged', true, [[1, 'raise'], [3, 'gone'], [5, 'ack']], ['raised@1', 'acknowledged@5', 'cleared@5']],
    ['acknowledged while active clears when the condition goes', true, [[1, 'raise'], [2, 'ack'], [3, 'ack'], [4, 'gone']], ['raised@1', 'acknowledged@2', 'cleared@4']],
    ['a returning condition re-activates the latched alarm, no new raise', true, [[1, 'raise'], [2, 'gone'], [3, 'raise'], [4, 'ack'], [5, 'gone']], ['raised@1', 'acknowledged@4', 'cleared@5']],
    ['after a clear the next excursion is a new alarm', false, [[1, 'raise'], [2, 'gone'], [3, 'raise']], ['raised@1', 'cleared@2', 'raised@3']],
  ])('%s', (_name, latched, steps, expected) => {
    expect(run(latched, steps).log).toEqual(expected);
  });

  it('records who acknowledged and when, and ignores unknown ids', () => {
    const { book } = run(true, [[Date.UTC(2026, 2, 1, 10), 'raise'], [Date.UTC(2026, 2, 1, 10, 5), 'ack']]);
    expect(book.open[0]).toMatchObject({ ackedBy: 'driver', ackedAt: '2026-03-01T10:05:00.000Z', active: true, raisedAt: '2026-03-01T10:00:00.000Z' });
    expect(acknowledgeAlarm(book, 'nope', 'x', 0).transitions).toEqual([]);
  });
});

describe('debounce (delay, clear delay, hold)', () => {
  type Script = [at: number, cond: boolean | undefined, hold?: boolean][];
  /** Feeds `cond` (and `hold`) at each time and lists the edges as `on@t` / `off@t`. */
  function edges(script: Script, timing = { delayMs: 300, clearDelayMs: 120 }): string[] {
    let d: Debounce = IDLE;
    const out: string[] = [];
    for (const [at, cond, hold] of script) {
      const r = stepDebounce(d, cond, at, timing, hold);
      d = r.d;
      if (r.edge) out.push(`${r.edge}@${at}`);
    }
    return out;
  }

  it.each<[string, Script, string[]]>([
    ['shorter than the delay: nothing', [[0, true], [100, true], [250, false], [400, false]], []],
    ['longer: on once, at the delay', [[0, true], [299, true], [300, true], [400, true]], ['on@300']],
    ['clear delay rides out a dip', [[0, true], [300, true], [350, false], [400, true], [500, false], [619, false], [620, false]], ['on@300', 'off@620']],
    ['hold keeps it pending, then on at once', [[0, true, true], [300, true, true], [500, true, false]], ['on@500']],
    ['no evidence forgets a pending start', [[0, true], [200, undefined], [300, true], [599, true], [600, true]], ['on@600']],
    ['no evidence never clears', [[0, true], [300, true], [400, undefined], [600, undefined], [700, false], [820, false]], ['on@300', 'off@820']],
  ])('%s', (_name, script, expected) => {
    expect(edges(script)).toEqual(expected);
  });

  it('acts at once with zero delays', () => {
    expect(edges([[0, true], [1, false]], { delayMs: 0, clearDelayMs: 0 })).toEqual(['on@0', 'off@1']);
  });
});

describe('suppression windows', () => {
  const min = 60_000;
  const w = { afterMin: 5, maxMin: 30 };
  it.each<[string, Episode | undefined, number, boolean]>([
    ['during the episode', { start: 0 }, 10 * min, true],
    ['before the hard maximum', { start: 0 }, 29 * min, true],
    ['at the hard maximum, still open', { start: 0 }, 30 * min, false],
    ['in the recovery after the end', { start: 0, end: 8 * min }, 12 * min, true],
    ['after the recovery', { start: 0, end: 8 * min }, 13 * min, false],
    ['no episode', undefined, 0, false],
  ])('%s', (_name, ep, now, expected) => {
    expect(suppressing(ep, now, w)).toBe(expected);
  });

  it('a door reopened during recovery continues the episode, so the maximum still counts from the first opening', () => {
    let ep = followInput(undefined, true, 0, w);
    ep = followInput(ep, false, 8 * min, w);
    ep = followInput(ep, true, 10 * min, w);
    expect(ep).toEqual({ start: 0 });
    ep = followInput(ep, false, 20 * min, w);
    ep = followInput(ep, true, 40 * min, w);
    expect(ep).toEqual({ start: 40 * min });
  });

  it('finds the latest scheduled defrost, also across midnight', () => {
    const day = Date.UTC(2026, 2, 1);
    const schedule = { startsUtc: ['06:00', '18:00'], durationMin: 30 };
    expect(scheduledEpisode(schedule, day + 7 * 60 * min)).toEqual({ start: day + 6 * 60 * min, end: day + 6.5 * 60 * min });
    expect(scheduledEpisode(schedule, day + 2 * 60 * min)).toEqual({ start: day - 6 * 60 * min, end: day - 5.5 * 60 * min });
  });
});
