import { describe, expect, it, vi } from 'vitest';
import { CommittedPublisher, type CommittedMessage } from '../src/receiver/committed.ts';
import { HoleTracker } from '../src/receiver/holes.ts';
import { addRange, contiguousThrough, coversAll, holes, intersects, rangesOf, union, type Range } from '../src/core/seq-ranges.ts';
import { notHeldOf, replayRequests, ReplayReply } from '../src/receiver/replay.ts';

describe('ranges (the ledger)', () => {
  it.each<[string, Range[], Range, Range[]]>([
    ['into nothing', [], [5, 9], [[5, 9]]],
    ['adjacent below merges', [[10, 20]], [5, 9], [[5, 20]]],
    ['adjacent above merges', [[1, 4]], [5, 9], [[1, 9]]],
    ['bridges two', [[1, 4], [10, 12]], [5, 9], [[1, 12]]],
    ['inside changes nothing', [[1, 20]], [5, 9], [[1, 20]]],
    ['apart stays apart, sorted', [[1, 2], [20, 30]], [5, 9], [[1, 2], [5, 9], [20, 30]]],
    ['covers several', [[3, 4], [6, 7], [9, 9]], [1, 10], [[1, 10]]],
  ])('addRange %s', (_name, ranges, [a, b], expected) => {
    expect(addRange(ranges, a, b)).toEqual(expected);
  });

  it('the worked example of ranges.ts: [[1,10],[15,20]] + 11, 12, 16', () => {
    const ledger = union([[1, 10], [15, 20]], rangesOf([11, 12, 16]));
    expect(ledger).toEqual([[1, 12], [15, 20]]);
    expect(contiguousThrough(ledger)).toBe(12);
    expect(holes(ledger, 20)).toEqual([[13, 14]]);
  });

  it.each<[Range[], number, Range[], number]>([
    [[], 0, [], 0],
    [[], 3, [[1, 3]], 0],
    [[[2, 5]], 5, [[1, 1]], 0],
    [[[1, 5], [8, 8]], 10, [[6, 7], [9, 10]], 5],
  ])('holes(%j, %i) = %j, contiguous through %i', (ranges, highest, expected, through) => {
    expect(holes(ranges, highest)).toEqual(expected);
    expect(contiguousThrough(ranges)).toBe(through);
  });

  it('rangesOf, intersects, coversAll', () => {
    expect(rangesOf([1, 2, 3, 7, 8, 10])).toEqual([[1, 3], [7, 8], [10, 10]]);
    expect(intersects([[5, 9]], 1, 4)).toBe(false);
    expect(intersects([[5, 9]], 9, 12)).toBe(true);
    expect(intersects([[5, 9]], 7, 6)).toBe(false);
    expect(coversAll([[1, 3], [4, 9]], 2, 8)).toBe(false);
    expect(coversAll(union([[1, 3], [4, 9]]), 2, 8)).toBe(true);
    expect(coversAll([], 5, 4)).toBe(true);
  });
});

describe('HoleTracker', () => {
  it('the worked example of holes.ts: a hole that shrinks keeps its age; asked again only after the timeout', () => {
    const t = new HoleTracker(10_000);
    expect(t.due('j', [[5, 9]], 0)).toEqual([]);
    expect(t.due('j', [[7, 9]], 4000)).toEqual([]);
    expect(t.due('j', [[7, 9]], 10_000)).toEqual([[7, 9]]);
    expect(t.due('j', [[7, 9]], 15_000)).toEqual([]);
    expect(t.due('j', [[7, 9]], 20_000)).toEqual([[7, 9]]);
    expect(t.open).toBe(1);
    expect(t.due('j', [], 21_000)).toEqual([]);
    expect(t.open).toBe(0);
  });

  it('a new hole beside an old one waits its own time', () => {
    const t = new HoleTracker(1000);
    t.due('j', [[5, 9]], 0);
    expect(t.due('j', [[5, 9], [20, 21]], 1000)).toEqual([[5, 9]]);
    expect(t.due('j', [[5, 9], [20, 21]], 2000)).toEqual([[5, 9], [20, 21]]);
  });
});

describe('replay', () => {
  it('a hole longer than the box accepts is asked for in pieces of at most 1,000,001 seqs', () => {
    expect(replayRequests('0123456789abcdef', [1, 2_500_000], 'receiver:a').map((r) => [r.fromSeq, r.toSeq])).toEqual([[1, 1_000_001], [1_000_002, 2_000_002], [2_000_003, 2_500_000]]);
  });

  it('notHeld is kept to the range asked for; a malformed reply does not parse', () => {
    const reply = ReplayReply.parse({ schema: 'coldgate.replay/1', gatewayId: 'v', incarnation: '0123456789abcdef', fromSeq: 10, toSeq: 20, resending: [], notHeld: [[1, 12], [18, 30], [40, 50]] });
    expect(notHeldOf(reply)).toEqual([[10, 12], [18, 20]]);
    expect(ReplayReply.safeParse({ ...reply, notHeld: [[5, 3]] }).success).toBe(false);
    expect(ReplayReply.safeParse({ ...reply, schema: 'coldgate.replay/2' }).success).toBe(false);
  });
});

describe('CommittedPublisher', () => {
  /** A publisher at 500 ms on fake timers, and what it sent. */
  function withPublisher(test: (p: CommittedPublisher, sent: CommittedMessage[]) => void): void {
    vi.useFakeTimers();
    try {
      const sent: CommittedMessage[] = [];
      test(new CommittedPublisher(500, (m) => sent.push(m), () => Date.now()), sent);
    } finally {
      vi.useRealTimers();
    }
  }

  it('coalesces to one per interval with the latest value, never goes back within an incarnation, repeats on request', () => {
    withPublisher((p, sent) => {
      p.offer('v', 'a', 10);
      p.offer('v', 'a', 20);
      p.offer('v', 'a', 15);
      expect(sent.map((m) => m.contiguousThrough)).toEqual([10]);
      vi.advanceTimersByTime(500);
      expect(sent.map((m) => m.contiguousThrough)).toEqual([10, 20]);
      vi.advanceTimersByTime(1000);
      p.offer('v', 'a', 20);
      expect(sent).toHaveLength(2);
      p.offer('v', 'a', 20, true);
      expect(sent.map((m) => m.contiguousThrough)).toEqual([10, 20, 20]);
      vi.advanceTimersByTime(1000);
      p.offer('v', 'b', 3);
      expect(sent.at(-1)).toMatchObject({ schema: 'coldgate.committed/1', gatewayId: 'v', incarnation: 'b', contiguousThrough: 3 });
    });
  });

  it('on close publishes what is pending and nothing after (a commit that lands while the receiver stops must not publish on an ended client)', () => {
    withPublisher((p, sent) => {
      p.offer('v', 'a', 10);
      p.offer('v', 'a', 20);
      p.close();
      expect(sent.map((m) => m.contiguousThrough)).toEqual([10, 20]);
      p.offer('v', 'a', 30);
      p.offer('w', 'a', 1);
      vi.advanceTimersByTime(5000);
      expect(sent.map((m) => m.contiguousThrough)).toEqual([10, 20]);
    });
  });
});
