import { describe, expect, it } from 'vitest';
import { addSample, EMPTY_STATS, mean, meanKineticTemperature } from '../src/rules/stats.ts';

const statsOf = (values: number[]) => values.reduce(addSample, EMPTY_STATS);
const repeat = (n: number, v: number) => Array<number>(n).fill(v);

describe('mean kinetic temperature (REFERENCE.md check values)', () => {
  it.each([
    ['constant 5 C', repeat(10, 5), 5.0],
    ['[2, 4, 8, 5]', [2, 4, 8, 5], 5.042],
    ['23 x 4 C + 1 x 15 C', [...repeat(23, 4), 15], 4.898],
    ['10 x -18 C + 2 x -12 C', [...repeat(10, -18), ...repeat(2, -12)], -16.574],
  ])('%s -> %s', (_name, values, expected) => {
    expect(meanKineticTemperature(statsOf(values))!.toFixed(3)).toBe(expected.toFixed(3));
  });

  it.each([[[2, 4, 8, 5]], [[-25, -18, -10]], [[0, 30]], [repeat(5, 3)]])('is never below the mean: %j', (values) => {
    const s = statsOf(values);
    expect(meanKineticTemperature(s)!).toBeGreaterThanOrEqual(mean(s)! - 1e-9);
  });

  it('keeps min, max and mean, and has nothing to say about no samples', () => {
    expect(statsOf([3, -1, 7])).toMatchObject({ n: 3, min: -1, max: 7 });
    expect(mean(statsOf([3, -1, 7]))).toBe(3);
    expect(meanKineticTemperature(EMPTY_STATS)).toBeNull();
    expect(mean(EMPTY_STATS)).toBeNull();
  });
});
